package dev.dit4j.examples;

import java.io.PrintWriter;
import java.util.Map;
import picocli.CommandLine;

/**
 * How the command line reports a failure: one line, {@code dit4j <command>: <message>}, exit
 * status 1 (picocli's usage errors keep their own report and status 2); the stack trace too only
 * with {@code --verbose} or {@code DIT4J_DEBUG=1}.
 */
final class Failures implements CommandLine.IExecutionExceptionHandler {
    static final String VERBOSE = "--verbose";

    private final boolean verbose;

    Failures(boolean verbose) {
        this.verbose = verbose;
    }

    /** Verbose when {@code args} hold {@link #VERBOSE} or {@code env} sets DIT4J_DEBUG to 1 or true. */
    static boolean verbose(String[] args, Map<String, String> env) {
        for (String a : args) if (a.equals(VERBOSE)) return true;
        String debug = env.getOrDefault("DIT4J_DEBUG", "");
        return debug.equals("1") || debug.equalsIgnoreCase("true");
    }

    /** {@code cli} with this report for its failures, its subcommands' included. */
    CommandLine install(CommandLine cli) {
        cli.setExecutionExceptionHandler(this);
        return cli;
    }

    @Override
    public int handleExecutionException(Exception e, CommandLine command, CommandLine.ParseResult parseResult) {
        PrintWriter err = command.getErr();
        err.println(command.getCommandSpec().qualifiedName(" ") + ": " + message(e));
        if (verbose) e.printStackTrace(err);
        err.flush();
        return 1;
    }

    /**
     * The reason, in words: the innermost message that says something (an initialiser's failure
     * reaches the user as its cause's message, not as ExceptionInInitializerError), with the
     * exception's kind where the message alone would not say it.
     */
    static String message(Throwable e) {
        Throwable t = e;
        while ((t.getMessage() == null || t instanceof ExceptionInInitializerError) && t.getCause() != null) t = t.getCause();
        String text = t.getMessage();
        if (t instanceof OutOfMemoryError) return "out of memory" + (text == null ? "" : " (" + text + ")") + ": use smaller inputs or raise -Xmx";
        if (text == null || text.isBlank()) return t.getClass().getSimpleName();
        boolean plain = t instanceof IllegalArgumentException || t instanceof IllegalStateException || t instanceof java.io.UncheckedIOException
                || t.getClass().getName().startsWith("dev.dit4j.");
        return plain ? text : t.getClass().getSimpleName() + ": " + text;
    }
}
