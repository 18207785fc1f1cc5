// Drives a running code-server in headless Chromium (playwright-core) through what a person does with
// the safety-ls extension. Started by tests/test_vscode_e2e.py, which checks the files on disk.
//
//   node drive.mjs CONFIG.json
//
// CONFIG: {scenario, url, chromium, artifacts, workspace, file, expectedFindings, fixLine, fixRule,
// snippetPrefix, warmFile, warmLine, fixAllFile, launchFile, launchLine}.
// Scenario "trusted": opens `file`, waits for the first squiggle, checks the Problems panel and the
// status bar, applies the quick fix for `fixRule` at `fixLine`, saves (copying the saved file to
// artifacts/after-quickfix.rs), inserts the snippet `snippetPrefix` at the end of the file, saves again
// (artifacts/after-snippet.rs), opens `warmFile` for a second timing with the server running, hovers a
// finding, runs "Fix All in File" on `fixAllFile` (artifacts/after-fix-all.rs), clicks the "Validate
// on GPU" lens at `launchLine` of `launchFile`, runs "Audit Workspace", then restarts the server.
// Scenario "untrusted": declines trust, checks diagnostics still come, and that the lens is refused.
// Prints one JSON line {"ok": true, "timings": {...}} and exits 0, or {"ok": false, "error", "step"}
// and exits 1; screenshots go to artifacts/.
import { readFileSync, writeFileSync, copyFileSync, statSync } from "node:fs";
import { join } from "node:path";
import { chromium } from "playwright-core";

const config = JSON.parse(readFileSync(process.argv[2], "utf8"));
const STEP_TIMEOUT_MS = 60_000;
const SQUIGGLE = ".monaco-editor .squiggly-error, .monaco-editor .squiggly-warning, .monaco-editor .squiggly-info";
const timings = {};
let page;
let currentStep = "start";

const log = (message) => process.stderr.write(`[drive ${new Date().toISOString().slice(11, 23)}] ${message}\n`);

async function step(name, action) {
  currentStep = name;
  log(name);
  return action();
}

async function screenshot(name) {
  await page.waitForTimeout(300); // let notifications finish sliding in: the picture only, no check waits on it
  await page.screenshot({ path: join(config.artifacts, `${name}.png`) });
}

async function waitForDiskChange(path, previousMtimeMs, timeoutMs = STEP_TIMEOUT_MS) {
  const deadline = Date.now() + timeoutMs;
  while (Date.now() < deadline) {
    if (statSync(path).mtimeMs !== previousMtimeMs) {
      return;
    }
    await new Promise((resolve) => setTimeout(resolve, 100));
  }
  throw new Error(`${path} was not written within ${timeoutMs} ms`);
}

/** Opens a workspace file through Quick Open; resolves when its editor tab is active. */
async function openFile(relativePath) {
  const name = relativePath.split("/").pop();
  await page.keyboard.press("Control+P");
  const input = page.locator(".quick-input-widget input");
  await input.waitFor({ state: "visible" });
  await input.fill(relativePath);
  await page.locator(".quick-input-list .monaco-list-row.focused", { hasText: name }).waitFor();
  const opened = Date.now();
  await page.keyboard.press("Enter");
  await page.locator(`.tab.active[data-resource-name="${name}"]`).waitFor();
  return opened;
}

async function goToLine(line, column = 1) {
  await page.keyboard.press("Control+G");
  const input = page.locator(".quick-input-widget input");
  await input.waitFor({ state: "visible" });
  await input.fill(`:${line}:${column}`);
  // Enter only acts once the picker has taken in the typed position.
  await page.locator(`.quick-input-widget input[aria-label^="Go to line ${line} "]`).waitFor();
  await page.keyboard.press("Enter");
  await input.waitFor({ state: "hidden" });
}

async function runCommand(title) {
  await page.keyboard.press("F1");
  const input = page.locator(".quick-input-widget input");
  await input.waitFor({ state: "visible" });
  await input.fill(`>${title}`);
  await page.locator(".quick-input-list .monaco-list-row.focused", { hasText: title }).waitFor();
  await page.keyboard.press("Enter");
}

async function saveAndWait(path) {
  const before = statSync(path).mtimeMs;
  await page.keyboard.press("Control+S");
  await waitForDiskChange(path, before);
}

async function loadWorkbench() {
  await step("load the workbench", async () => {
    await page.goto(`${config.url}/?folder=${encodeURIComponent(config.workspace)}`);
    await page.locator(".monaco-workbench").waitFor();
    await page.locator(".explorer-folders-view .monaco-list-row").first().waitFor();
  });
}

async function trustedScenario() {
  const diskFile = join(config.workspace, config.file);

  await step("open the file and wait for the first squiggle", async () => {
    const opened = await openFile(config.file);
    await page.locator(SQUIGGLE).first().waitFor();
    timings.open_to_first_squiggle_ms = Date.now() - opened;
    // The user settings make the finding an error: the extension passed them to the server.
    await page.locator(".monaco-editor .squiggly-error").first().waitFor();
    await screenshot("01-squiggle");
  });

  await step("the Problems panel lists the finding", async () => {
    await page.keyboard.press("Control+Shift+M");
    const panel = page.locator(".markers-panel");
    await panel.waitFor();
    await panel.locator(".monaco-list-row", { hasText: config.fixRule }).first().waitFor();
    timings.problems_panel_rows = await panel.locator(".monaco-list-row").count();
    await screenshot("02-problems-panel");
  });

  await step("the status bar counts the findings, each listed once", async () => {
    await page.locator(".statusbar-item", { hasText: `safety-ls: ${config.expectedFindings}` }).first().waitFor();
    const rows = await page.locator(".markers-panel .monaco-list-row", { hasText: config.fixRule }).count();
    if (rows !== 1) {
      throw new Error(`the Problems panel lists ${rows} ${config.fixRule} findings, expected 1`);
    }
  });

  await step("apply the quick fix", async () => {
    await page.locator(".monaco-editor .view-lines").first().click();
    await goToLine(config.fixLine);
    await page.keyboard.press("Control+.");
    const actions = page.locator(".action-widget .monaco-list-row.action");
    await actions.first().waitFor();
    await screenshot("03-quick-fix-menu");
    const titles = await actions.allInnerTexts();
    const index = titles.findIndex((title) => title.includes(`(${config.fixRule})`));
    if (index < 0) {
      throw new Error(`no quick fix for ${config.fixRule} among ${JSON.stringify(titles)}`);
    }
    for (let i = 0; i < index; i++) {
      await page.keyboard.press("ArrowDown");
    }
    await page.keyboard.press("Enter");
    await page.locator(".action-widget").waitFor({ state: "hidden" });
    await saveAndWait(diskFile);
    copyFileSync(diskFile, join(config.artifacts, "after-quickfix.rs"));
    await screenshot("04-after-quick-fix");
  });

  await step("insert a snippet", async () => {
    await page.keyboard.press("Control+End");
    await page.keyboard.type(config.snippetPrefix);
    await page.keyboard.press("Control+Space");
    const focused = page.locator(".suggest-widget .monaco-list-row.focused");
    await focused.waitFor();
    const label = await focused.innerText();
    if (!label.includes(config.snippetPrefix)) {
      throw new Error(`the first suggestion is ${JSON.stringify(label)}, not the snippet ${config.snippetPrefix}`);
    }
    await screenshot("05-snippet-suggestion");
    await page.keyboard.press("Enter");
    await page.keyboard.press("Escape");
    await saveAndWait(diskFile);
    copyFileSync(diskFile, join(config.artifacts, "after-snippet.rs"));
  });

  await step("open a second file with the server running", async () => {
    const opened = await openFile(config.warmFile);
    await goToLine(config.warmLine);
    await page.locator(SQUIGGLE).first().waitFor();
    timings.warm_open_to_first_squiggle_ms = Date.now() - opened;
    await screenshot("06-second-file");
  });

  await step("hover explains the finding", async () => {
    await openFile(config.file);
    await goToLine(config.fixLine);
    // The squiggle lies under the text layer: move the mouse over its place rather than onto it.
    const box = await page.locator(SQUIGGLE).first().boundingBox();
    await page.mouse.move(box.x + Math.min(box.width / 2, 20), box.y + box.height / 2);
    await page.locator(".monaco-hover", { hasText: "safety-ls" }).first().waitFor();
    await screenshot("07-hover");
  });

  await step("fix all in file from the command palette", async () => {
    await openFile(config.fixAllFile);
    const disk = join(config.workspace, config.fixAllFile);
    const before = statSync(disk).mtimeMs;
    await runCommand("safety-ls: Fix All in File");
    // The server applies it with workspace/applyEdit; VS Code saves such edits (files.refactoring.autoSave).
    await waitForDiskChange(disk, before);
    copyFileSync(disk, join(config.artifacts, "after-fix-all.rs"));
  });

  await step("validate a kernel launch from its code lens", async () => {
    await openFile(config.launchFile);
    await goToLine(config.launchLine);
    await page.locator(".codelens-decoration a", { hasText: "Validate on GPU" }).first().click();
    await page.locator(".notification-toast", { hasText: "GPU" }).first().waitFor();
    await screenshot("08-validate-lens");
  });

  await step("audit the workspace", async () => {
    await runCommand("safety-ls: Audit Workspace");
    // Servers before safety-ls.auditWorkspace get a message; later ones open the Markdown report.
    const noAudit = page.locator(".notification-toast", { hasText: "has no workspace audit" });
    const report = page.locator(".tab.active", { hasText: "Untitled" });
    await noAudit.or(report).first().waitFor();
    timings.audit = (await report.count()) > 0 ? "report" : "not-in-server";
    if (timings.audit === "report") {
      await page.locator(".tab", { hasText: "Preview" }).first().waitFor();
    }
    await screenshot("09-audit");
  });

  await step("restart the server", async () => {
    // Back to the Rust file: keys typed while the Markdown preview (a webview) has focus stay there.
    await page.locator(`.tab[data-resource-name="${config.launchFile.split("/").pop()}"]`).click();
    await runCommand("safety-ls: Restart Server");
    await runCommand("safety-ls: Show Output");
    // The extension logs each start; the second one is the restart.
    await page.locator(".output-view .view-line", { hasText: "starting" }).nth(1).waitFor();
    await screenshot("10-output-after-restart");
    // The new server reports the open file again.
    await page.locator(".editor-group-container .monaco-editor .view-lines").first().click();
    await page.locator(".statusbar-item", { hasText: /safety-ls: [1-9]/ }).first().waitFor();
    await page.locator(SQUIGGLE).first().waitFor();
  });
}

async function untrustedScenario() {
  await step("decline trust", async () => {
    await page.locator(".monaco-dialog-box").waitFor();
    await screenshot("01-trust-dialog");
    await page.locator(".monaco-dialog-box .monaco-button", { hasText: "No, I don't trust the authors" }).click();
    await page.locator(".monaco-dialog-box").waitFor({ state: "hidden" });
  });

  await step("diagnostics in restricted mode", async () => {
    await openFile(config.launchFile);
    await goToLine(config.launchLine);
    await page.locator(SQUIGGLE).first().waitFor();
    await page.locator(".statusbar-item", { hasText: /safety-ls: \d+/ }).first().waitFor();
  });

  await step("the GPU runner is off", async () => {
    await page.locator(".codelens-decoration a", { hasText: "Validate on GPU" }).first().click();
    await page.locator(".notification-toast", { hasText: "the GPU runner is off in an untrusted workspace" }).first().waitFor();
    await screenshot("02-gpu-runner-refused");
  });
}

async function run() {
  const browser = await chromium.launch({
    executablePath: config.chromium,
    headless: true,
    args: [
      "--no-sandbox", "--disable-gpu", "--no-first-run", "--disable-background-networking",
      "--disable-component-update", "--disable-sync", "--disable-dev-shm-usage",
    ],
  });
  try {
    page = await browser.newPage({ viewport: { width: 1280, height: 800 } });
    page.setDefaultTimeout(STEP_TIMEOUT_MS);

    await loadWorkbench();
    await (config.scenario === "untrusted" ? untrustedScenario() : trustedScenario());
  } catch (error) {
    await screenshot("failure").catch(() => undefined);
    throw error;
  } finally {
    await browser.close();
  }
}

try {
  await run();
  console.log(JSON.stringify({ ok: true, timings }));
} catch (error) {
  log(`failed in step "${currentStep}": ${error.stack || error}`);
  writeFileSync(join(config.artifacts, "failure.txt"), `${currentStep}\n${error.stack || error}\n`);
  console.log(JSON.stringify({ ok: false, step: currentStep, error: String(error), timings }));
  process.exit(1);
}
