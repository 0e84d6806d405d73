package dev.clip4j.train;

import dev.clip4j.io.RunLock;

import java.io.OutputStream;
import java.io.PrintStream;
import java.nio.file.Path;

/**
 * Child-JVM entry points for the crash-safety tests: {@code train RUN DATA CONFIG} starts (or, if the run has a
 * checkpoint, resumes) the tiny recipe of {@link RunSafetyTest}; {@code hold DIR} takes the run lock and waits.
 */
public final class TrainProbe {
    public static void main(String[] args) throws Exception {
        Path run = Path.of(args[1]);
        if (args[0].equals("hold")) {
            try (RunLock lock = RunLock.acquire(run)) {
                System.out.println("holding");
                System.out.flush();
                Thread.sleep(60_000);
            }
            return;
        }
        PrintStream quiet = new PrintStream(OutputStream.nullOutputStream());
        Trainer t = RunCheckpoint.find(run) == null
                ? new Trainer(RunSafetyTest.recipe(Path.of(args[2]), Path.of(args[3])), run, false, quiet)
                : Trainer.resume(run, null, quiet);
        Trainer.Result r = t.run();
        System.out.println("finished at step " + r.state().step());
    }
}
