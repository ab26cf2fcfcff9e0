package dev.thaw.restore.impl;

/**
 * How a restore's loaders put pages in, from the engine's configuration ({@link RestoreEngine.Config}).
 *
 * @param touchLoaded whether the background loaders read each page they load once from user space
 *     ({@link UffdCopier#touch}) before it counts as loaded
 * @param wholeHugePages whether loads into anonymous memory (the background loaders', faults' and their prefetches')
 *     take whole huge pages where they can ({@link HugeRanges})
 */
record LoadSettings(boolean touchLoaded, boolean wholeHugePages) {

    /** The engine's defaults. */
    static final LoadSettings DEFAULTS = new LoadSettings(RestoreEngine.TOUCH_LOADED, RestoreEngine.WHOLE_HUGE_PAGES);
}
