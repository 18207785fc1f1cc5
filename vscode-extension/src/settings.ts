// VS Code settings → what the server reads (initializationOptions, workspace/configuration) and how
// to start it. The server's keys are those of safety-ls.toml (docs/language-server.md).
import * as vscode from "vscode";
import type { LocatorSettings } from "./serverLocator";

export const SECTION = "safety-ls";

/** Settings that change how the server process is started: a change restarts it. */
export const LAUNCH_KEYS = ["server-path", "interpreter", "extra-args"] as const;

/** Checker settings passed through when set; unset ones leave the project's config file in charge. */
const CHECKER_KEYS = ["profile", "select", "ignore", "severity"] as const;

export function gpuRunnerEnabled(scope?: vscode.ConfigurationScope): boolean {
  return vscode.workspace.isTrusted && vscode.workspace.getConfiguration(SECTION, scope).get<boolean>("gpu-runner", true);
}

/** The settings object the server receives, with the GPU runner forced off in an untrusted workspace. */
export function serverSettings(scope?: vscode.ConfigurationScope): Record<string, unknown> {
  const config = vscode.workspace.getConfiguration(SECTION, scope);
  const settings: Record<string, unknown> = {};
  for (const key of CHECKER_KEYS) {
    const value = config.get<unknown>(key);
    const isEmptyTable = typeof value === "object" && value !== null && !Array.isArray(value) && Object.keys(value).length === 0;
    if (value !== null && value !== undefined && !isEmptyTable) {
      settings[key] = value;
    }
  }
  settings["workspace-scan"] = config.get<boolean>("workspace-scan", false);
  settings["gpu-runner"] = gpuRunnerEnabled(scope);
  return settings;
}

export function locatorSettings(): LocatorSettings {
  const config = vscode.workspace.getConfiguration(SECTION);
  // In an untrusted workspace VS Code already ignores workspace values of the restricted settings
  // (package.json `restrictedConfigurations`); the workspace's own .venv is not run either.
  const trusted = vscode.workspace.isTrusted;
  return {
    serverPath: config.get<string | string[] | null>("server-path") ?? null,
    interpreter: config.get<string | null>("interpreter") || null,
    venvFolders: trusted ? (vscode.workspace.workspaceFolders ?? []).map((folder) => folder.uri.fsPath) : [],
  };
}

export function extraArgs(): string[] {
  return vscode.workspace.getConfiguration(SECTION).get<string[]>("extra-args", []);
}
