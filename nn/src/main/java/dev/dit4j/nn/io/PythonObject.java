package dev.dit4j.nn.io;

import java.util.List;

/**
 * A Python value that a checkpoint holds beside its tensors and that dit4j keeps as data without
 * making it: composer's wall-clock times ({@code datetime.timedelta}), numpy arrays and dtypes (an
 * RNG state), torch's version string. {@code type} is the class or function the pickle names (for
 * an ndarray, {@code numpy.core.multiarray._reconstruct}), {@code args} what it was to be called
 * with, and {@code state} what was to be set on the result afterwards (null if nothing). A class
 * passed as an argument (numpy.ndarray) appears as its dotted name.
 */
public record PythonObject(String type, List<Object> args, Object state) {}
