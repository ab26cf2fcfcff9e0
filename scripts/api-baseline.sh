#!/usr/bin/env bash
# Makes the baseline a bundle's exported packages are checked against (docs/api-versioning.md): the
# bundle as its module built at the commit that pom.xml names as the last release of the API
# (thaw.baseline.commit), installed once in the local Maven repository as
# GROUP:ARTIFACT:baseline-COMMIT. Built from git history, so a fresh clone needs no artifact from
# anywhere; the module's build runs this before bnd-baseline-maven-plugin compares. Never skips: what
# it cannot do fails the build with one line saying why.
#
#   api-baseline.sh GIT_ROOT COMMIT MODULE GROUP ARTIFACT VERSION LOCAL_REPO offline=BOOL MAVEN_HOME WORK_DIR
#
# MODULE is the module's folder in the repository (bundles/api); offline= is Maven's offline setting
# (true or false), passed on to the build of the old commit; WORK_DIR holds that build and its log.
set -euo pipefail

die() { echo "[ERROR] thaw API baseline: $*" >&2; exit 1; }

[ $# -eq 10 ] || die "usage: $0 GIT_ROOT COMMIT MODULE GROUP ARTIFACT VERSION LOCAL_REPO offline=BOOL MAVEN_HOME WORK_DIR (got $# arguments)"
git_root="$1" commit="$2" module="$3" group="$4" artifact="$5" version="$6" repo="$7" offline="$8" maven_home="$9"
work="${10}"

installed="$repo/${group//.//}/$artifact/$version/$artifact-$version.jar"
[ -f "$installed" ] && exit 0

[[ "$commit" =~ ^[0-9a-f]{40}$ ]] \
  || die "thaw.baseline.commit in pom.xml must be a full 40-digit commit id, not '$commit'"
command -v git >/dev/null 2>&1 || die "git is needed to build the baseline $artifact at $commit (thaw.baseline.commit in pom.xml)"
git -C "$git_root" rev-parse --git-dir >/dev/null 2>&1 \
  || die "$git_root is not a git checkout; the baseline $artifact is built from its history at $commit (thaw.baseline.commit in pom.xml)"
git -C "$git_root" cat-file -e "$commit^{commit}" 2>/dev/null \
  || die "commit $commit (thaw.baseline.commit in pom.xml) is not in the git repository at $git_root; a shallow clone lacks it: git fetch --unshallow"
git -C "$git_root" cat-file -e "$commit:$module/pom.xml" 2>/dev/null \
  || die "commit $commit (thaw.baseline.commit in pom.xml) has no $module/pom.xml: name a commit where $artifact exists"

mvn="$maven_home/bin/mvn"
[ -x "$mvn" ] || mvn="$(command -v mvn)" || die "Maven (mvn) is needed to build the baseline $artifact at $commit"
offline_flag=()
[ "$offline" = offline=true ] && offline_flag=(-o)

tree="$work/$commit"
log="$work/$artifact-$commit.log"
rm -rf "$tree"
mkdir -p "$tree"
git -C "$git_root" archive --format=tar "$commit" | tar -x -C "$tree"
echo "thaw API baseline: building $artifact at $commit once (log: $log)" >&2
# The old build must not install (it would replace this build's snapshots) nor check a baseline of its own.
# A short build: C1 alone halves its CPU time.
if ! (cd "$tree" && MAVEN_OPTS="${MAVEN_OPTS:-} -XX:TieredStopAtLevel=1" "$mvn" -B -ntp "${offline_flag[@]}" -Dmaven.repo.local="$repo" -pl "$module" -am package \
      -Dmaven.test.skip=true -Dthaw.baseline.skip=true) > "$log" 2>&1; then
  die "building $artifact at commit $commit (thaw.baseline.commit in pom.xml) failed; the log is $log"
fi
jar="$(ls "$tree/$module"/target/"$artifact"-*.jar 2>/dev/null | grep -v -e '-sources\.jar$' -e '-tests\.jar$' | head -n 1 || true)"
[ -n "$jar" ] || die "building $artifact at commit $commit made no jar in $module/target; the log is $log"
# install-file needs no project: run it where there is no pom.xml.
if ! (cd "$work" && "$mvn" -B -ntp "${offline_flag[@]}" -Dmaven.repo.local="$repo" \
      org.apache.maven.plugins:maven-install-plugin:3.1.3:install-file -Dfile="$jar" \
      -DgroupId="$group" -DartifactId="$artifact" -Dversion="$version" -Dpackaging=jar -DgeneratePom=true) >> "$log" 2>&1; then
  die "installing the baseline $artifact as $group:$artifact:$version in $repo failed; the log is $log"
fi
rm -rf "$tree"
