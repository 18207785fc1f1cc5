// The extension's own commands; each sends one of the server's commands (docs/language-server.md).
import * as vscode from "vscode";
import { ServerController, VALIDATE_KERNEL, describeError, gpuRunnerRefusal } from "./serverController";

const FIX_ALL = "safety-ls.fixAll";
const AUDIT_WORKSPACE = "safety-ls.auditWorkspace";

interface AuditReport {
  markdown: string;
  json: unknown;
  htmlPath?: string;
}

function activeRustEditor(): vscode.TextEditor | undefined {
  const editor = vscode.window.activeTextEditor;
  if (editor?.document.languageId !== "rust") {
    void vscode.window.showWarningMessage("safety-ls: open a Rust file first.");
    return undefined;
  }
  return editor;
}

function uriForServer(controller: ServerController, uri: vscode.Uri): string {
  return controller.running?.code2ProtocolConverter.asUri(uri) ?? uri.toString();
}

export async function fixAllInFile(controller: ServerController): Promise<void> {
  const editor = activeRustEditor();
  if (!editor) {
    return;
  }
  try {
    const applied = await controller.executeServerCommand(FIX_ALL, [uriForServer(controller, editor.document.uri)]);
    if (applied === false) {
      void vscode.window.showWarningMessage("safety-ls: the fixes were not applied (the file changed meanwhile, or the server does not have it open).");
    }
  } catch (error) {
    void vscode.window.showErrorMessage(`safety-ls: fix all failed: ${describeError(error)}`);
  }
}

export async function validateKernelAtCursor(controller: ServerController): Promise<unknown> {
  const editor = activeRustEditor();
  if (!editor) {
    return undefined;
  }
  const refusal = gpuRunnerRefusal();
  if (refusal) {
    void vscode.window.showWarningMessage(refusal);
    return undefined;
  }
  try {
    // The server shows its own result (a message, diagnostics and the lens text); its line is 0-based.
    return await controller.executeServerCommand(VALIDATE_KERNEL, [
      uriForServer(controller, editor.document.uri),
      editor.selection.active.line,
    ]);
  } catch (error) {
    void vscode.window.showErrorMessage(`safety-ls: kernel validation failed: ${describeError(error)}`);
    return undefined;
  }
}

function isAuditReport(value: unknown): value is AuditReport {
  return typeof value === "object" && value !== null && typeof (value as AuditReport).markdown === "string";
}

export async function openAuditReport(controller: ServerController): Promise<void> {
  if (controller.running && !controller.supports(AUDIT_WORKSPACE)) {
    const folder = vscode.workspace.workspaceFolders?.[0]?.uri.fsPath ?? ".";
    void vscode.window.showWarningMessage(
      `safety-ls: this server has no workspace audit (command ${AUDIT_WORKSPACE}); update safety-ls (pip install -U /path/to/safety-ls), or run \`safety-ls audit ${folder}\` in a terminal.`,
    );
    return;
  }
  let report: unknown;
  try {
    report = await vscode.window.withProgress(
      { location: vscode.ProgressLocation.Notification, title: "safety-ls: auditing the workspace" },
      () => controller.executeServerCommand(AUDIT_WORKSPACE, []),
    );
  } catch (error) {
    void vscode.window.showErrorMessage(`safety-ls: the audit failed: ${describeError(error)}`);
    return;
  }
  if (!isAuditReport(report)) {
    void vscode.window.showErrorMessage("safety-ls: the server's audit result has no Markdown report.");
    return;
  }
  const document = await vscode.workspace.openTextDocument({ language: "markdown", content: report.markdown });
  await vscode.window.showTextDocument(document, { preview: false });
  await vscode.commands.executeCommand("markdown.showPreview", document.uri).then(undefined, () => undefined);
  const htmlPath = report.htmlPath;
  if (htmlPath) {
    const choice = await vscode.window.showInformationMessage(`safety-ls: HTML report written to ${htmlPath}`, "Open HTML Report");
    if (choice) {
      await vscode.env.openExternal(vscode.Uri.file(htmlPath));
    }
  }
}
