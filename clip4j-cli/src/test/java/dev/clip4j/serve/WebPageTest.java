package dev.clip4j.serve;

import dev.clip4j.Precision;
import dev.clip4j.index.ImageIndex;
import dev.clip4j.index.IndexFixture;
import dev.clip4j.index.IndexProgress;
import dev.clip4j.index.IndexSource;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.Assumptions;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.openqa.selenium.By;
import org.openqa.selenium.JavascriptExecutor;
import org.openqa.selenium.Keys;
import org.openqa.selenium.OutputType;
import org.openqa.selenium.WebElement;
import org.openqa.selenium.chrome.ChromeDriver;
import org.openqa.selenium.chrome.ChromeDriverService;
import org.openqa.selenium.chrome.ChromeOptions;
import org.openqa.selenium.support.ui.WebDriverWait;

import java.io.ByteArrayOutputStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.Base64;
import java.util.List;
import java.util.Random;

import static org.assertj.core.api.Assertions.assertThat;

/** The search page in a real headless browser (Debian's chromium): query, drop an image, threshold, click a result. */
class WebPageTest {
    static Path dir, images;
    static ImageIndex index;
    static SearchService service;
    static ChromeDriver browser;

    @BeforeAll
    static void start() throws Exception {
        String why = Browser.missing();
        if (why != null) System.err.println("WebPageTest skipped: " + why);
        Assumptions.assumeTrue(why == null, "browser tests skipped: " + why);
        dir = Files.createTempDirectory("clip4j-web-test");
        images = IndexFixture.colourFolders(dir.resolve("photos"), 5, 41);
        index = ImageIndex.build(IndexFixture.get().model(), IndexSource.of(images), dir.resolve("idx"), Precision.FP32, 8, IndexProgress.NONE);
        service = SearchService.start(index, "127.0.0.1", 0);
        ChromeOptions o = new ChromeOptions().setBinary(Browser.CHROMIUM.toString())
                .addArguments("--headless=new", "--no-sandbox", "--disable-gpu", "--disable-dev-shm-usage", "--window-size=1200,900");
        ChromeDriverService driver = new ChromeDriverService.Builder().usingDriverExecutable(Browser.DRIVER.toFile()).usingAnyFreePort().build();
        browser = new ChromeDriver(driver, o);
        browser.get("http://127.0.0.1:" + service.port() + "/");
    }

    @AfterAll
    static void stop() throws Exception {
        if (browser != null) browser.quit();
        if (service != null) service.close();
        if (index != null) index.close();
        if (dir != null) dev.clip4j.data.DataFiles.deleteTree(dir);
    }

    private static WebDriverWait waiting() {
        return new WebDriverWait(browser, Duration.ofSeconds(60));
    }

    private static List<WebElement> hits() {
        return browser.findElements(By.cssSelector("#results .hit"));
    }

    private static String status() {
        return browser.findElement(By.id("status")).getText();
    }

    @Test
    void searchDropThresholdAndClick() throws Exception {
        // a text query: thumbnails of red images come back, best first, with scores
        WebElement box = browser.findElement(By.id("query"));
        box.sendKeys("a photo of a red.", Keys.ENTER);
        waiting().until(d -> status().contains("results for"));
        List<WebElement> hits = hits();
        assertThat(hits).hasSize(15);
        assertThat(hits.get(0).getAttribute("data-path")).contains("/red/");
        waiting().until(d -> (Boolean) ((JavascriptExecutor) d).executeScript(
                "const i = document.querySelector('#results .hit img'); return i.complete && i.naturalWidth > 0;"));

        // drop an image (a real drop event with a file): its colour's images come first
        ByteArrayOutputStream png = new ByteArrayOutputStream();
        javax.imageio.ImageIO.write(IndexFixture.image(2, new Random(3)), "png", png);
        ((JavascriptExecutor) browser).executeScript("""
                const bytes = Uint8Array.from(atob(arguments[0]), c => c.charCodeAt(0));
                const dt = new DataTransfer();
                dt.items.add(new File([bytes], 'query.png', {type: 'image/png'}));
                document.getElementById('drop').dispatchEvent(new DragEvent('drop', {dataTransfer: dt, bubbles: true, cancelable: true}));
                """, Base64.getEncoder().encodeToString(png.toByteArray()));
        waiting().until(d -> status().contains("the dropped image query.png"));
        assertThat(hits().get(0).getAttribute("data-path")).contains("/blue/");

        // the threshold slider hides results under it
        List<WebElement> now = hits();
        // the slider moves in steps of 0.01: a threshold at or under the 5th score keeps at least 5
        double cut = Math.floor(Double.parseDouble(now.get(4).getAttribute("data-score")) * 100) / 100;
        ((JavascriptExecutor) browser).executeScript("const t = document.getElementById('threshold'); t.value = arguments[0];"
                + " t.dispatchEvent(new Event('input'));", String.valueOf(cut));
        double set = Double.parseDouble(browser.findElement(By.id("threshold")).getAttribute("value"));
        long expected = now.stream().filter(h -> Double.parseDouble(h.getAttribute("data-score")) >= set).count();
        long visible = hits().stream().filter(WebElement::isDisplayed).count();
        assertThat(visible).isEqualTo(expected).isBetween(5L, 14L);
        assertThat(hits().stream().filter(WebElement::isDisplayed)).allMatch(h -> Double.parseDouble(h.getAttribute("data-score")) >= set);
        assertThat(status()).contains("at or above the threshold");
        ((JavascriptExecutor) browser).executeScript("const t = document.getElementById('threshold'); t.value = -1; t.dispatchEvent(new Event('input'));");

        // clicking a result searches by it: it comes back first, with cosine 1
        WebElement third = hits().get(2);
        String path = third.getAttribute("data-path");
        third.click();
        waiting().until(d -> status().contains("an indexed image"));
        assertThat(hits().get(0).getAttribute("data-path")).isEqualTo(path);
        assertThat(Double.parseDouble(hits().get(0).getAttribute("data-score"))).isGreaterThan(0.9999);

        // a refused request shows the server's error
        box.clear();
        ((JavascriptExecutor) browser).executeScript("document.getElementById('query').value = 'a'.repeat(3000);");
        box.sendKeys(Keys.ENTER);
        waiting().until(d -> browser.findElement(By.id("status")).getAttribute("class").contains("error"));
        assertThat(status()).contains("maxQueryChars");

        Path shot = Path.of("target", "web-page.png");
        Files.createDirectories(shot.getParent());
        Files.write(shot, browser.getScreenshotAs(OutputType.BYTES));
        assertThat(Files.size(shot)).isGreaterThan(1000);
    }
}
