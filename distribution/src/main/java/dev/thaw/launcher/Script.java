package dev.thaw.launcher;

import java.util.List;

/** Gogo text to run, and the arguments a script file sees as {@code $1}, {@code $2}, ... */
record Script(String text, List<String> args) {}
