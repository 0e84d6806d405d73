package dev.clip4j.cli;

import dev.clip4j.InputException;
import dev.clip4j.io.StopSignal;
import picocli.CommandLine;
import picocli.CommandLine.Command;

import java.io.PrintStream;

/** The {@code clip4j} command line. Errors are one line on stderr and a non-zero exit code, never a stack trace. */
// INHERIT: every subcommand gets --help and --version too.
@Command(name = "clip4j", mixinStandardHelpOptions = true, version = "clip4j 0.1.0",
        scope = CommandLine.ScopeType.INHERIT, description = "CLIP vision-language models on the JVM (libtorch).",
        subcommands = {TokenizeCommand.class, EmbedCommand.class, ClassifyCommand.class, BenchCommand.class, AdaptCommand.class,
                TrainCommand.class, PretrainCommand.class, EvalCommand.class, QuickstartCommand.class, WiseFtCommand.class, IndexCommand.class,
                SearchCommand.class, ServeCommand.class, LaunchCommand.class})
public final class Main implements Runnable {
    /** Exit code when standard output could not be written (a full disk, /dev/full, a closed pipe). */
    static final int EXIT_OUTPUT_FAILED = 74; // EX_IOERR

    @CommandLine.Spec
    CommandLine.Model.CommandSpec spec;

    @Override
    public void run() {
        spec.commandLine().usage(System.out);
    }

    /**
     * Lucene (the index) logs a warning at its first use in every JVM that resolved jdk.incubator.vector, as the
     * launcher's do for the resize's Vector API pass: its own vectorised code needs Java 20 or later, so on Java 17 it
     * keeps its scalar code, which is all the warning says. Held here: java.util.logging keeps loggers weakly.
     */
    private static final java.util.logging.Logger LUCENE_VECTORIZATION = quiet("org.apache.lucene.internal.vectorization");

    private static java.util.logging.Logger quiet(String name) {
        java.util.logging.Logger logger = java.util.logging.Logger.getLogger(name);
        logger.setLevel(java.util.logging.Level.SEVERE);
        return logger;
    }

    public static void main(String[] args) {
        Signals.install();
        ParentWatch.install();
        System.exit(execute(args));
    }

    /**
     * The command line with more subcommands (another module's, such as clip4j-spark's {@code spark-embed}), run as
     * {@link #main} runs it: signals, the launcher watch, one-line errors, the exit code.
     */
    public static void mainWith(java.util.Map<String, Object> extra, String[] args) {
        Signals.install();
        ParentWatch.install();
        System.exit(execute(extra, args));
    }

    /** Runs one command line; the exit code also reports a failed write to standard output. */
    static int execute(String... args) {
        return execute(java.util.Map.of(), args);
    }

    /** One command line with {@code extra} subcommands, as {@link #mainWith} runs it but returning the exit code. */
    public static int execute(java.util.Map<String, Object> extra, String... args) {
        int code;
        // each command line starts from the Java API's backend; one with --backend sets its own (so command lines
        // run one after another in one JVM, as the tests do, never inherit another's choice)
        dev.clip4j.Backend.use(dev.clip4j.Backend.TORCH);
        try {
            CommandLine cl = commandLine();
            extra.forEach(cl::addSubcommand);
            code = cl.execute(args);
        } catch (OutOfMemoryError | StackOverflowError e) {
            // picocli hands only Exceptions to the handler; an Error would end the JVM with a stack trace
            if (System.getenv("CLIP4J_DEBUG") != null) e.printStackTrace();
            System.err.println("clip4j: error: " + describe(e));
            code = 1;
        }
        PrintStream out = System.out;
        out.flush();
        if (out.checkError()) {
            System.err.println("clip4j: error: could not write standard output (disk full or closed pipe?); the output is incomplete");
            return code == 0 ? EXIT_OUTPUT_FAILED : code;
        }
        return code;
    }

    static CommandLine commandLine() {
        CommandLine cl = new CommandLine(new Main());
        cl.setExecutionExceptionHandler((e, cmd, parse) -> {
            if (System.getenv("CLIP4J_DEBUG") != null) e.printStackTrace();
            if (e instanceof StopSignal.Stopped s) {
                cmd.getErr().println("clip4j: " + s.getMessage() + "; nothing was written");
                return Signals.exitCode(s.signal);
            }
            cmd.getErr().println("clip4j: error: " + describe(e));
            return 1;
        });
        return cl;
    }

    static String describe(Throwable e) {
        if (e instanceof StackOverflowError) return "input nested too deeply (stack overflow)";
        if (e instanceof OutOfMemoryError) {
            return "out of Java heap memory (" + Runtime.getRuntime().maxMemory() / (1 << 20) + " MB); raise it with -Xmx in "
                    + "CLIP4J_JAVA_OPTS, or ask for less (smaller batches, fewer inputs)";
        }
        if (e instanceof InputException || e instanceof IllegalArgumentException || e instanceof java.io.IOException) {
            String m = e.getMessage();
            if (e instanceof java.nio.file.NoSuchFileException) m = m + ": no such file";
            if (e instanceof java.nio.file.AccessDeniedException) m = m + ": permission denied";
            if (e instanceof java.nio.file.FileAlreadyExistsException) m = m + ": already exists";
            return m == null ? e.getClass().getSimpleName() : m.lines().findFirst().orElse(m);
        }
        String m = e.getMessage();
        return e.getClass().getSimpleName() + (m == null ? "" : ": " + m.lines().findFirst().orElse(m))
                + " (set CLIP4J_DEBUG=1 for details)";
    }
}
