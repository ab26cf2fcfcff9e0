package dev.thaw.machine.impl;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.thaw.api.vm.RestoreSettings;
import dev.thaw.testing.ConfigProxy;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Map;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** A configuration change applies whole, or is refused whole with its reasons while the settings before it stay. */
class RestoreDefaultsTest {

    private static GuestVmManager.Config config(Map<String, ?> values) {
        return ConfigProxy.of(GuestVmManager.Config.class, values);
    }

    @Test
    void aGoodChangeAppliesAndClearsAnEarlierRefusal(@TempDir Path home) {
        RestoreDefaults d = new RestoreDefaults(home);
        assertEquals(new RestoreSettings("sequential", "", 2, "", ""), d.get(), "built-in defaults");
        d.apply(config(Map.of("loaderThreads", 65)));
        assertTrue(d.get().lastRejected().contains("loaderThreads 65 is out of range (1 to 64)"), d.get().lastRejected());
        d.apply(config(Map.of("defaultPolicy", "prefetch-window", "fallbackPolicy", "none", "loaderThreads", 1)));
        assertEquals(new RestoreSettings("prefetch-window", "none", 1, "", ""), d.get());
    }

    @Test
    void aChangeWithAnyBadValueIsRefusedWithEveryReasonAndNothingOfItApplies(@TempDir Path home) {
        RestoreDefaults d = new RestoreDefaults(home);
        d.apply(config(Map.of("defaultPolicy", "none", "loaderThreads", 4)));
        d.apply(config(Map.of("defaultPolicy", "prefetch-window", "fallbackPolicy", "Bad Name", "loaderThreads", 0)));
        RestoreSettings s = d.get();
        assertEquals("none", s.defaultPolicy());
        assertEquals(4, s.loaderThreads());
        assertTrue(s.lastRejected().startsWith("configuration dev.thaw.restore refused: "), s.lastRejected());
        assertTrue(s.lastRejected().contains("fallbackPolicy 'Bad Name' is not a policy name"), s.lastRejected());
        assertTrue(s.lastRejected().contains("loaderThreads 0 is out of range"), s.lastRejected());
        d.apply(config(Map.of("defaultPolicy", "")));
        assertTrue(d.get().lastRejected().contains("defaultPolicy '' is not a policy name"), d.get().lastRejected());
    }

    @Test
    void profilesLieBesideTheirSnapshotOrInTheConfiguredFolderOnePerSnapshotPath(@TempDir Path dir) throws Exception {
        RestoreDefaults d = new RestoreDefaults(dir.resolve("home"));
        Path a = dir.resolve("a/guest.snap");
        Path b = dir.resolve("b/guest.snap");
        assertEquals(dir.resolve("a/guest.snap.profile.json"), d.profileFile(a));
        d.apply(config(Map.of("profileDirectory", dir.resolve("profiles").toString())));
        assertEquals("", d.get().lastRejected());
        Path pa = d.profileFile(a);
        assertEquals(dir.resolve("profiles"), pa.getParent());
        assertTrue(pa.getFileName().toString().matches("guest\\.snap\\.[0-9a-f]{12}\\.profile\\.json"), pa.toString());
        assertNotEquals(pa, d.profileFile(b), "same file name, another folder: another profile");
        assertEquals(pa, d.profileFile(dir.resolve("b/../a/./guest.snap")), "one snapshot, one profile");

        Path file = Files.createFile(dir.resolve("not-a-folder"));
        d.apply(config(Map.of("profileDirectory", file.toString())));
        assertTrue(d.get().lastRejected().contains("profileDirectory '" + file + "' is a file, not a folder"), d.get().lastRejected());
        assertEquals(pa, d.profileFile(a), "the folder before stays in force");
        d.apply(config(Map.of("profileDirectory", "bad\u0000path")));
        assertTrue(d.get().lastRejected().contains("is not a path"), d.get().lastRejected());
        d.apply(config(Map.of()));
        assertEquals(dir.resolve("a/guest.snap.profile.json"), d.profileFile(a), "empty: beside the snapshot again");
    }

    /**
     * The configuration file says the folder is relative to the Thaw home; the platform runs with another
     * working folder ({@code ./thaw} may be started from anywhere), as this test does: its working folder
     * is the module's, its home a fresh folder.
     */
    @Test
    void aRelativeProfileFolderLiesInTheThawHomeNotInTheWorkingFolder(@TempDir Path dir) throws Exception {
        Path home = Files.createDirectories(dir.resolve("home"));
        Path workingFolder = Path.of("").toAbsolutePath();
        assertNotEquals(workingFolder, home);
        RestoreDefaults d = new RestoreDefaults(home);

        d.apply(config(Map.of("profileDirectory", "var/profiles")));
        assertEquals("", d.get().lastRejected());
        assertEquals(home.resolve("var/profiles").toString(), d.get().profileDirectory(), "what thaw:policies shows");
        assertEquals(home.resolve("var/profiles"), d.profileFile(dir.resolve("a/guest.snap")).getParent());
        d.apply(config(Map.of("profileDirectory", "../profiles")));
        assertEquals(dir.resolve("profiles").toString(), d.get().profileDirectory(), "normalized");

        // The check that the folder is no file looks in the home too.
        Files.createFile(home.resolve("taken"));
        d.apply(config(Map.of("profileDirectory", "taken")));
        assertTrue(d.get().lastRejected().contains("profileDirectory 'taken' (" + home.resolve("taken") + ") is a file, not a folder"),
                d.get().lastRejected());
        assertEquals(dir.resolve("profiles").toString(), d.get().profileDirectory(), "the folder before stays in force");

        Path absolute = dir.resolve("elsewhere");
        d.apply(config(Map.of("profileDirectory", absolute.toString())));
        assertEquals(absolute.toString(), d.get().profileDirectory(), "an absolute folder is taken as it is");
    }
}
