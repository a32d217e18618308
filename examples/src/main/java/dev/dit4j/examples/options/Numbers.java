package dev.dit4j.examples.options;

import picocli.CommandLine.ITypeConverter;
import picocli.CommandLine.TypeConversionException;

/**
 * Converters for numeric options that refuse careless values when the command line is parsed, so
 * picocli reports "Invalid value for option '--cfg': 'NaN' is not a finite number" (exit code 2)
 * before any work, instead of a run that ends with NaN images or divides by zero.
 */
public final class Numbers {
    private Numbers() {}

    /** A finite number greater than 0 (a learning rate, a time budget). */
    public static final class Positive implements ITypeConverter<Double> {
        @Override
        public Double convert(String text) {
            double v = finite(text);
            if (!(v > 0)) throw new TypeConversionException("'" + text + "' must be greater than 0");
            return v;
        }
    }

    /** A finite number of 0 or more (a guidance scale, a gradient clip where 0 is off). */
    public static final class NonNegative implements ITypeConverter<Double> {
        @Override
        public Double convert(String text) {
            double v = finite(text);
            if (!(v >= 0)) throw new TypeConversionException("'" + text + "' must be 0 or more");
            return v;
        }
    }

    /** A number in [0, 1), such as a decay. */
    public static final class Fraction implements ITypeConverter<Double> {
        @Override
        public Double convert(String text) {
            double v = finite(text);
            if (!(v >= 0 && v < 1)) throw new TypeConversionException("'" + text + "' must lie in [0, 1)");
            return v;
        }
    }

    /** A count of at least 1 (a batch size, steps, widths). */
    public static final class PositiveInt implements ITypeConverter<Integer> {
        @Override
        public Integer convert(String text) {
            return Math.toIntExact(positive(text, Integer.MAX_VALUE));
        }
    }

    /** A long count of at least 1. */
    public static final class PositiveLong implements ITypeConverter<Long> {
        @Override
        public Long convert(String text) {
            return positive(text, Long.MAX_VALUE);
        }
    }

    /** A long count of at least 0 (warm-up steps, a start step). */
    public static final class NonNegativeLong implements ITypeConverter<Long> {
        @Override
        public Long convert(String text) {
            return text.trim().equals("0") ? 0L : positive(text, Long.MAX_VALUE);
        }
    }

    private static double finite(String text) {
        try {
            double v = Double.parseDouble(text.trim());
            if (Double.isFinite(v)) return v;
        } catch (NumberFormatException e) {
            throw new TypeConversionException("'" + text + "' is not a number");
        }
        throw new TypeConversionException("'" + text + "' is not a finite number");
    }

    private static long positive(String text, long max) {
        long v;
        try {
            v = Long.parseLong(text.trim());
        } catch (NumberFormatException e) {
            throw new TypeConversionException("'" + text + "' is not a whole number up to " + max);
        }
        if (v < 1 || v > max) throw new TypeConversionException("'" + text + "' must be between 1 and " + max);
        return v;
    }
}
