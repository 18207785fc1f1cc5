// Starts, restarts and stops the language client, and sends the server's commands.
import * as vscode from "vscode";
import {
  DidChangeConfigurationNotification,
  DocumentDiagnosticRequest,
  DynamicFeature,
  ExecuteCommandRequest,
  LanguageClient,
  LanguageClientOptions,
  ResponseError,
  State,
  StaticFeature,
  TransportKind,
} from "vscode-languageclient/node";
import { describe, locateServer } from "./serverLocator";
import { SECTION, extraArgs, gpuRunnerEnabled, locatorSettings, serverSettings } from "./settings";
import { StatusBar } from "./statusBar";

export const VALIDATE_KERNEL = "safety-ls.validateKernel";

/** Why a server command cannot be sent now, or undefined when it can. */
export function gpuRunnerRefusal(): string | undefined {
  if (!vscode.workspace.isTrusted) {
    return "safety-ls: the GPU runner is off in an untrusted workspace (it runs the command in the project's [gpu] config). Trust the workspace to validate kernel launches.";
  }
  if (!gpuRunnerEnabled()) {
    return "safety-ls: the GPU runner is turned off (setting safety-ls.gpu-runner).";
  }
  return undefined;
}

/**
 * A client that takes the server's pushed diagnostics only. The server pushes versioned diagnostics
 * as the document changes and also answers pull requests; VS Code keeps the two in separate
 * collections, so with both every finding is listed twice. Without the pull feature the client does
 * not announce pull support, and nothing pulls.
 */
class PushDiagnosticsClient extends LanguageClient {
  override registerFeature(feature: StaticFeature | DynamicFeature<unknown>): void {
    if ("registrationType" in feature && feature.registrationType.method === DocumentDiagnosticRequest.method) {
      return;
    }
    super.registerFeature(feature);
  }
}

export class ServerController implements vscode.Disposable {
  private client: LanguageClient | undefined;
  private starting: Promise<void> | undefined;

  constructor(
    private readonly output: vscode.LogOutputChannel,
    private readonly status: StatusBar,
  ) {}

  start(): Promise<void> {
    this.starting ??= this.startClient().finally(() => (this.starting = undefined));
    return this.starting;
  }

  async restart(): Promise<void> {
    await this.starting;
    await this.stop();
    await this.start();
  }

  async stop(): Promise<void> {
    const client = this.client;
    this.client = undefined;
    if (client) {
      await client.dispose().catch((error: unknown) => this.output.error(`stopping the server: ${String(error)}`));
    }
    this.status.setState({ kind: "stopped" });
  }

  /** Pushes changed settings; the server re-reads them and re-checks open files. */
  sendSettings(): void {
    this.client
      ?.sendNotification(DidChangeConfigurationNotification.type, { settings: { [SECTION]: serverSettings() } })
      .catch((error: unknown) => this.output.error(`sending settings: ${String(error)}`));
  }

  get running(): LanguageClient | undefined {
    return this.client?.state === State.Running ? this.client : undefined;
  }

  /** Whether the running server offers `command` (servers of older releases lack some). */
  supports(command: string): boolean {
    return this.running?.initializeResult?.capabilities.executeCommandProvider?.commands.includes(command) ?? false;
  }

  async executeServerCommand(command: string, args: unknown[]): Promise<unknown> {
    const client = this.running;
    if (!client) {
      throw new Error("the safety-ls server is not running (see “safety-ls: Show Output”)");
    }
    return client.sendRequest(ExecuteCommandRequest.type, { command, arguments: args });
  }

  private async startClient(): Promise<void> {
    this.status.setState({ kind: "starting" });
    const located = await locateServer(locatorSettings());
    for (const attempt of located.attempts) {
      this.output.info(`server candidate (${attempt.origin}): ${describe(attempt.launch)} → ${attempt.outcome}: ${attempt.detail}`);
    }
    if (!located.found) {
      this.status.setState({ kind: "failed", reason: located.advice });
      this.output.error(`cannot start the server: ${located.advice}`);
      void this.offerHelp(`safety-ls cannot start. ${located.advice}`);
      return;
    }
    const args = [...located.launch.args, "serve", ...extraArgs()];
    const folder = vscode.workspace.workspaceFolders?.[0]?.uri.fsPath;
    this.output.info(`starting ${describe({ command: located.launch.command, args })} (safety-ls ${located.version})`);
    const client = new PushDiagnosticsClient(
      SECTION,
      "safety-ls",
      { command: located.launch.command, args, transport: TransportKind.stdio, options: { cwd: folder } },
      this.clientOptions(),
    );
    client.onDidChangeState((event) => {
      if (client !== this.client) {
        return;
      }
      if (event.newState === State.Running) {
        this.status.setState({ kind: "running", version: located.version, command: describe(located.launch) });
      } else if (event.newState === State.Starting) {
        this.status.setState({ kind: "starting" });
      } else {
        this.status.setState({ kind: "stopped" });
      }
    });
    this.client = client;
    try {
      await client.start();
    } catch (error) {
      const reason = `\`${describe({ command: located.launch.command, args })}\` failed: ${String(error)}`;
      this.status.setState({ kind: "failed", reason });
      this.output.error(reason);
      void this.offerHelp(`safety-ls: the server did not start. ${reason}`);
    }
  }

  private clientOptions(): LanguageClientOptions {
    return {
      documentSelector: [
        { scheme: "file", language: "rust" },
        { scheme: "untitled", language: "rust" },
      ],
      outputChannel: this.output,
      initializationOptions: () => serverSettings(),
      middleware: {
        workspace: {
          configuration: async (params, token, next) => {
            const values = await next(params, token);
            if (!Array.isArray(values)) {
              return values;
            }
            return params.items.map((item, index) =>
              item.section === SECTION ? serverSettings(item.scopeUri ? vscode.Uri.parse(item.scopeUri) : undefined) : values[index],
            );
          },
        },
        // Code lenses call the server's commands through VS Code: the GPU runner gate applies to them too.
        executeCommand: async (command, args, next) => {
          const refusal = command === VALIDATE_KERNEL ? gpuRunnerRefusal() : undefined;
          if (refusal) {
            void vscode.window.showWarningMessage(refusal);
            return undefined;
          }
          return next(command, args);
        },
      },
    };
  }

  private async offerHelp(message: string): Promise<void> {
    const choice = await vscode.window.showErrorMessage(message, "Open Settings", "Show Output");
    if (choice === "Open Settings") {
      await vscode.commands.executeCommand("workbench.action.openSettings", "@ext:safety-ls.safety-ls");
    } else if (choice === "Show Output") {
      this.output.show();
    }
  }

  dispose(): void {
    void this.stop();
  }
}

export function describeError(error: unknown): string {
  return error instanceof ResponseError ? `${error.message} (code ${error.code})` : String(error);
}
