// The safety-ls VS Code extension: starts the language server for Rust files and adds its commands.
import * as vscode from "vscode";
import { fixAllInFile, openAuditReport, validateKernelAtCursor } from "./commands";
import { ServerController } from "./serverController";
import { LAUNCH_KEYS, SECTION } from "./settings";
import { StatusBar } from "./statusBar";

let controller: ServerController | undefined;

export async function activate(context: vscode.ExtensionContext): Promise<void> {
  const output = vscode.window.createOutputChannel("safety-ls", { log: true });
  const status = new StatusBar();
  controller = new ServerController(output, status);
  const server = controller;
  context.subscriptions.push(
    output,
    status,
    server,
    vscode.commands.registerCommand("safety-ls.restartServer", () => server.restart()),
    vscode.commands.registerCommand("safety-ls.fixAllInFile", () => fixAllInFile(server)),
    vscode.commands.registerCommand("safety-ls.openAuditReport", () => openAuditReport(server)),
    vscode.commands.registerCommand("safety-ls.validateKernelAtCursor", () => validateKernelAtCursor(server)),
    vscode.commands.registerCommand("safety-ls.showOutput", () => output.show()),
    vscode.workspace.onDidChangeConfiguration((event) => {
      if (LAUNCH_KEYS.some((key) => event.affectsConfiguration(`${SECTION}.${key}`))) {
        void server.restart();
      } else if (event.affectsConfiguration(SECTION)) {
        server.sendSettings();
      }
    }),
    // Trust enables the workspace's .venv and the GPU runner: start over with them.
    vscode.workspace.onDidGrantWorkspaceTrust(() => void server.restart()),
  );
  await server.start();
}

export async function deactivate(): Promise<void> {
  await controller?.stop();
}
