package dev.clip4j.cli;

import dev.clip4j.checkpoint.CheckpointException;
import dev.clip4j.image.ImageException;
import picocli.CommandLine;
import picocli.CommandLine.Command;

/** The {@code clip4j} command line. Errors are one line on stderr and a non-zero exit code, never a stack trace. */
// INHERIT: every subcommand gets --help and --version too.
@Command(name = "clip4j", mixinStandardHelpOptions = true, version = "clip4j 0.1.0",
        scope = CommandLine.ScopeType.INHERIT, description = "CLIP vision-language models on the JVM (libtorch).",
        subcommands = {TokenizeCommand.class, EmbedCommand.class, ClassifyCommand.class, BenchCommand.class,
                TrainCommand.class, EvalCommand.class, QuickstartCommand.class, WiseFtCommand.class})
public final class Main implements Runnable {
    @CommandLine.Spec
    CommandLine.Model.CommandSpec spec;

    @Override
    public void run() {
        spec.commandLine().usage(System.out);
    }

    public static void main(String[] args) {
        System.exit(commandLine().execute(args));
    }

    static CommandLine commandLine() {
        CommandLine cl = new CommandLine(new Main());
        cl.setExecutionExceptionHandler((e, cmd, parse) -> {
            if (System.getenv("CLIP4J_DEBUG") != null) e.printStackTrace();
            cmd.getErr().println("clip4j: error: " + describe(e));
            return 1;
        });
        return cl;
    }

    static String describe(Throwable e) {
        if (e instanceof CheckpointException || e instanceof ImageException || e instanceof UserError
                || e instanceof IllegalArgumentException || e instanceof java.io.IOException) {
            String m = e.getMessage();
            if (e instanceof java.nio.file.NoSuchFileException) m = m + ": no such file";
            return m == null ? e.toString() : m.lines().findFirst().orElse(m);
        }
        String m = e.getMessage();
        return e.getClass().getSimpleName() + (m == null ? "" : ": " + m.lines().findFirst().orElse(m))
                + " (set CLIP4J_DEBUG=1 for details)";
    }
}
