package dev.clip4j.eval;

import dev.clip4j.io.AtomicFiles;

import javax.imageio.ImageIO;
import java.awt.Color;
import java.awt.Font;
import java.awt.Graphics2D;
import java.awt.RenderingHints;
import java.awt.image.BufferedImage;
import java.io.IOException;
import java.nio.file.Path;

/** The confusion matrix as a heat map PNG, rows true classes, columns predictions, each row normalised. */
public final class ConfusionMatrixPlot {
    private ConfusionMatrixPlot() {}

    public static void write(ZeroShotResult r, Path png) throws IOException {
        int k = r.classes().size(), cell = Math.max(28, Math.min(60, 600 / Math.max(1, k))), margin = 150;
        int size = margin + k * cell + 20;
        BufferedImage img = new BufferedImage(size, size + 30, BufferedImage.TYPE_INT_RGB);
        Graphics2D g = img.createGraphics();
        g.setRenderingHint(RenderingHints.KEY_TEXT_ANTIALIASING, RenderingHints.VALUE_TEXT_ANTIALIAS_ON);
        g.setColor(Color.WHITE);
        g.fillRect(0, 0, img.getWidth(), img.getHeight());
        g.setFont(new Font(Font.SANS_SERIF, Font.PLAIN, 11));
        g.setColor(Color.BLACK);
        g.drawString(String.format("%s zero-shot: top-1 %.1f%%  (rows: true class, columns: predicted)", r.dataset(), 100 * r.top1()), 10, 18);
        for (int i = 0; i < k; i++) {
            int total = 0;
            for (int j = 0; j < k; j++) total += r.confusion()[i][j];
            for (int j = 0; j < k; j++) {
                double f = total == 0 ? 0 : (double) r.confusion()[i][j] / total;
                int shade = (int) Math.round(255 * (1 - f));
                g.setColor(new Color(shade, shade, 255));
                int x = margin + j * cell, y = margin + i * cell;
                g.fillRect(x, y, cell, cell);
                g.setColor(f > 0.5 ? Color.WHITE : Color.BLACK);
                g.drawString(String.format("%.0f", 100 * f), x + cell / 2 - 8, y + cell / 2 + 4);
            }
            g.setColor(Color.BLACK);
            g.drawString(shorten(r.classes().get(i)), 5, margin + i * cell + cell / 2 + 4);
            Graphics2D v = (Graphics2D) g.create();
            v.rotate(-Math.PI / 2, margin + i * cell + cell / 2 + 4, margin - 5);
            v.drawString(shorten(r.classes().get(i)), margin + i * cell + cell / 2 + 4, margin - 5);
            v.dispose();
        }
        g.dispose();
        AtomicFiles.write(png, out -> ImageIO.write(img, "png", out));
    }

    private static String shorten(String s) {
        return s.length() > 20 ? s.substring(0, 19) + "…" : s;
    }
}
