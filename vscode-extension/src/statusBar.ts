// The status bar item: the server's state, and the findings in the file being edited.
import * as vscode from "vscode";

export type ServerState =
  | { kind: "starting" }
  | { kind: "running"; version: string; command: string }
  | { kind: "stopped" }
  | { kind: "failed"; reason: string };

const DIAGNOSTIC_SOURCE = "safety-ls";

export class StatusBar implements vscode.Disposable {
  private readonly item = vscode.window.createStatusBarItem("safety-ls.status", vscode.StatusBarAlignment.Left, 0);
  private readonly subscriptions: vscode.Disposable[];
  private state: ServerState = { kind: "starting" };

  constructor() {
    this.item.name = "safety-ls";
    this.item.command = "safety-ls.showOutput";
    this.subscriptions = [
      vscode.window.onDidChangeActiveTextEditor(() => this.render()),
      vscode.languages.onDidChangeDiagnostics((event) => {
        const active = vscode.window.activeTextEditor?.document.uri.toString();
        if (active && event.uris.some((uri) => uri.toString() === active)) {
          this.render();
        }
      }),
    ];
  }

  setState(state: ServerState): void {
    this.state = state;
    this.render();
  }

  private findingsInActiveFile(): number | undefined {
    const document = vscode.window.activeTextEditor?.document;
    if (!document || document.languageId !== "rust") {
      return undefined;
    }
    return vscode.languages.getDiagnostics(document.uri).filter((d) => d.source === DIAGNOSTIC_SOURCE).length;
  }

  private render(): void {
    const findings = this.findingsInActiveFile();
    const editingRust = findings !== undefined;
    switch (this.state.kind) {
      case "starting":
        this.item.text = "$(sync~spin) safety-ls";
        this.item.tooltip = "safety-ls: starting the server";
        break;
      case "running":
        this.item.text = editingRust ? `$(shield) safety-ls: ${findings}` : "$(shield) safety-ls";
        this.item.tooltip = `safety-ls ${this.state.version} (${this.state.command})` +
          (editingRust ? `\n${findings} finding${findings === 1 ? "" : "s"} in this file` : "") +
          "\nClick to show the output";
        break;
      case "stopped":
        this.item.text = "$(circle-slash) safety-ls";
        this.item.tooltip = "safety-ls: the server is stopped (run “safety-ls: Restart Server”)";
        break;
      case "failed":
        this.item.text = "$(error) safety-ls";
        this.item.tooltip = `safety-ls could not start: ${this.state.reason}`;
        break;
    }
    this.item.backgroundColor =
      this.state.kind === "failed" ? new vscode.ThemeColor("statusBarItem.errorBackground") : undefined;
    if (editingRust || this.state.kind === "failed") {
      this.item.show();
    } else {
      this.item.hide();
    }
  }

  dispose(): void {
    this.item.dispose();
    this.subscriptions.forEach((subscription) => subscription.dispose());
  }
}
