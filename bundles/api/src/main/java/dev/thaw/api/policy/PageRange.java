package dev.thaw.api.policy;

/** Pages {@code first} to {@code first + count - 1}. */
public record PageRange(long first, long count) {

    public PageRange {
        if (first < 0 || count < 1) {
            throw new IllegalArgumentException("page range " + first + "+" + count + " is empty or negative");
        }
    }

    public static PageRange of(long page) {
        return new PageRange(page, 1);
    }

    /** One past the last page. */
    public long end() {
        return first + count;
    }

    public boolean contains(long page) {
        return page >= first && page < end();
    }
}
