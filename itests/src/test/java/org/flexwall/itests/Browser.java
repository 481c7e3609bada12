package org.flexwall.itests;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;

import org.openqa.selenium.Dimension;
import org.openqa.selenium.JavascriptExecutor;
import org.openqa.selenium.OutputType;
import org.openqa.selenium.chrome.ChromeDriver;
import org.openqa.selenium.chrome.ChromeDriverService;
import org.openqa.selenium.chrome.ChromeOptions;
import org.openqa.selenium.support.ui.FluentWait;

/**
 * Debian's headless Chromium driven through Debian's chromedriver with Selenium's Java client, so a test clicks in a
 * page as the operator does. Nothing is downloaded: both programs are given by path.
 */
final class Browser implements AutoCloseable {
    final ChromeDriver driver;

    Browser(Path work) throws IOException {
        ChromeDriverService service = new ChromeDriverService.Builder()
                .usingDriverExecutable(Path.of("/usr/bin/chromedriver").toFile())
                .withLogFile(work.resolve("chromedriver.log").toFile()).usingAnyFreePort().build();
        ChromeOptions options = new ChromeOptions().setBinary("/usr/bin/chromium").addArguments("--headless",
                "--no-sandbox", "--disable-gpu", "--disable-quic", "--disable-background-networking",
                "--disable-component-update", "--disable-sync", "--no-first-run",
                "--user-data-dir=" + Files.createTempDirectory(work, "chromium"));
        driver = new ChromeDriver(service, options);
        driver.manage().timeouts().pageLoadTimeout(Duration.ofSeconds(60)).scriptTimeout(Duration.ofSeconds(30));
    }

    void open(String url) {
        driver.get(url);
    }

    /** Runs {@code script} in the page (a function body: it may return a value). */
    Object run(String script, Object... args) {
        return ((JavascriptExecutor) driver).executeScript(script, args);
    }

    /** Waits up to {@code seconds} for {@code script} to return true, failing with {@code what} and the page's text. */
    void await(int seconds, String what, String script, Object... args) {
        try {
            new FluentWait<>(driver).withTimeout(Duration.ofSeconds(seconds)).pollingEvery(Duration.ofMillis(200))
                    .ignoring(RuntimeException.class).until(d -> Boolean.TRUE.equals(run(script, args)));
        } catch (org.openqa.selenium.TimeoutException e) {
            throw new AssertionError(what + " within " + seconds + " s; the page said:\n" + text(), e);
        }
    }

    String text() {
        return String.valueOf(run("return document.body ? document.body.innerText : '';"));
    }

    /**
     * What the operator sees in a window of {@code width}×{@code height} ({@code file}), and the whole page at that
     * width (the same name ending in -full.png).
     */
    void screenshot(int width, int height, Path file) throws IOException {
        Files.createDirectories(file.getParent());
        viewport(width, height);
        Files.write(file, driver.getScreenshotAs(OutputType.BYTES));
        long full = ((Number) run("return Math.max(document.body.scrollHeight, document.documentElement.scrollHeight);"))
                .longValue();
        driver.manage().window().setSize(new Dimension(width, (int) Math.min(Math.max(full + 120, height), 8000)));
        Files.write(file.resolveSibling(file.getFileName().toString().replace(".png", "-full.png")),
                driver.getScreenshotAs(OutputType.BYTES));
        viewport(width, height);
    }

    /** Sizes the window so that the page itself gets {@code width}×{@code height} (the window's frame aside). */
    void viewport(int width, int height) {
        driver.manage().window().setSize(new Dimension(width, height));
        long innerWidth = ((Number) run("return window.innerWidth;")).longValue();
        long innerHeight = ((Number) run("return window.innerHeight;")).longValue();
        driver.manage().window().setSize(new Dimension((int) (2 * width - innerWidth), (int) (2 * height - innerHeight)));
    }

    @Override
    public void close() {
        driver.quit();
    }
}
