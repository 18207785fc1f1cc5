// Finds a safety-ls server to start, and when there is none, says exactly what to install.
// No `vscode` import: the test suite runs this module in plain node against real interpreters.
import { execFile } from "node:child_process";
import { existsSync } from "node:fs";
import { join } from "node:path";

/** A command line that runs the safety-ls CLI; `serve` and the extra arguments are appended to `args`. */
export interface Launch {
  command: string;
  args: string[];
}

export interface LocatorSettings {
  /** `safety-ls.server-path`: an executable, or a command line as a list. */
  serverPath: string | string[] | null;
  /** `safety-ls.interpreter`: a Python that has the package. */
  interpreter: string | null;
  /** Workspace folders whose `.venv` may be used (empty in an untrusted workspace). */
  venvFolders: string[];
}

export type Outcome = "found" | "not-found" | "no-package" | "python-too-old" | "failed";

export interface Attempt {
  launch: Launch;
  /** Where the candidate came from, for messages ("safety-ls.interpreter", "the workspace's .venv", ...). */
  origin: string;
  outcome: Outcome;
  /** The server's version when found; otherwise what went wrong. */
  detail: string;
}

export type Located =
  | { found: true; launch: Launch; version: string; origin: string; attempts: Attempt[] }
  | { found: false; attempts: Attempt[]; advice: string };

const MINIMUM_PYTHON: [number, number] = [3, 11];
const PROBE_TIMEOUT_MS = 20_000;
const isWindows = process.platform === "win32";

interface Ran {
  spawned: boolean;
  code: number;
  stdout: string;
  stderr: string;
}

function run(command: string, args: string[]): Promise<Ran> {
  return new Promise((resolve) => {
    execFile(command, args, { timeout: PROBE_TIMEOUT_MS, windowsHide: true }, (error, stdout, stderr) => {
      const code = error ? (typeof error.code === "number" ? error.code : -1) : 0;
      const spawned = !(error && (error.code === "ENOENT" || error.code === "EACCES"));
      resolve({ spawned, code, stdout: String(stdout), stderr: String(stderr || error?.message || "") });
    });
  });
}

function pythonLaunch(python: string): Launch {
  return { command: python, args: ["-m", "safety_ls"] };
}

export function describe(launch: Launch): string {
  return [launch.command, ...launch.args].map((part) => (/\s/.test(part) ? JSON.stringify(part) : part)).join(" ");
}

/** Runs `<launch> --version` and says what it found. */
export async function probe(launch: Launch, origin: string): Promise<Attempt> {
  const attempt = (outcome: Outcome, detail: string): Attempt => ({ launch, origin, outcome, detail });
  const ran = await run(launch.command, [...launch.args, "--version"]);
  if (!ran.spawned) {
    return attempt("not-found", `${launch.command} was not found`);
  }
  const version = /safety-ls (\S+)/.exec(ran.stdout);
  if (ran.code === 0 && version) {
    return attempt("found", version[1]);
  }
  const isPython = launch.args[0] === "-m";
  if (isPython && /No module named safety_ls/.test(ran.stderr)) {
    const pythonVersion = await run(launch.command, ["-c", "import sys; print('%d.%d' % sys.version_info[:2])"]);
    const [major, minor] = pythonVersion.stdout.trim().split(".").map(Number);
    if (major < MINIMUM_PYTHON[0] || (major === MINIMUM_PYTHON[0] && minor < MINIMUM_PYTHON[1])) {
      return attempt("python-too-old", `${launch.command} is Python ${major}.${minor}`);
    }
    return attempt("no-package", `safety-ls is not installed for ${launch.command}`);
  }
  const said = (ran.stderr || ran.stdout).trim().split("\n").slice(-3).join("\n");
  return attempt("failed", `\`${describe(launch)} --version\` exited with ${ran.code}: ${said}`);
}

function venvPython(folder: string): string {
  return isWindows ? join(folder, ".venv", "Scripts", "python.exe") : join(folder, ".venv", "bin", "python");
}

/** The candidates in the order they are tried; an explicit setting is the only candidate. */
export function candidates(settings: LocatorSettings): { launch: Launch; origin: string }[] {
  if (settings.serverPath !== null && settings.serverPath.length > 0) {
    const [command, ...args] = typeof settings.serverPath === "string" ? [settings.serverPath] : settings.serverPath;
    return [{ launch: { command, args }, origin: "safety-ls.server-path" }];
  }
  if (settings.interpreter) {
    return [{ launch: pythonLaunch(settings.interpreter), origin: "safety-ls.interpreter" }];
  }
  const found = settings.venvFolders
    .map(venvPython)
    .filter((python) => existsSync(python))
    .map((python) => ({ launch: pythonLaunch(python), origin: "the workspace's .venv" }));
  found.push({ launch: pythonLaunch(isWindows ? "python" : "python3"), origin: "PATH" });
  found.push({ launch: { command: "safety-ls", args: [] }, origin: "PATH" });
  return found;
}

/** What to tell the person when no candidate worked: the most specific fix first. */
export function advise(attempts: Attempt[]): string {
  const explicit = attempts.find((a) => a.origin.startsWith("safety-ls."));
  if (explicit) {
    switch (explicit.outcome) {
      case "not-found":
        return `${explicit.origin} is set to \`${explicit.launch.command}\`, which does not exist or cannot be run. Fix the setting, or clear it to let safety-ls find Python.`;
      case "no-package":
        return `safety-ls is not installed for ${explicit.launch.command} (${explicit.origin}). Install it with \`${describe({ command: explicit.launch.command, args: ["-m", "pip", "install", "/path/to/safety-ls"] })}\`.`;
      case "python-too-old":
        return `${explicit.detail} (${explicit.origin}); safety-ls needs Python ${MINIMUM_PYTHON.join(".")} or later. Point ${explicit.origin} to a newer Python with safety-ls installed (\`pip install /path/to/safety-ls\`).`;
      default:
        return `${explicit.origin} (\`${describe(explicit.launch)}\`) does not run safety-ls: ${explicit.detail}`;
    }
  }
  const withoutPackage = attempts.find((a) => a.outcome === "no-package");
  if (withoutPackage) {
    const install = describe({ command: withoutPackage.launch.command, args: ["-m", "pip", "install", "/path/to/safety-ls"] });
    const pipx = withoutPackage.origin === "PATH" ? " (or `pipx install /path/to/safety-ls`)" : "";
    return `safety-ls is not installed for ${withoutPackage.launch.command} (${withoutPackage.origin}). Install it with \`${install}\`${pipx}, or set safety-ls.interpreter to a Python that has it.`;
  }
  const tooOld = attempts.find((a) => a.outcome === "python-too-old");
  if (tooOld) {
    return `${tooOld.detail}; safety-ls needs Python ${MINIMUM_PYTHON.join(".")} or later. Install a newer Python, then \`pip install /path/to/safety-ls\` with it, and set safety-ls.interpreter to it.`;
  }
  const broken = attempts.find((a) => a.outcome === "failed");
  if (broken) {
    return `safety-ls was found but does not run: ${broken.detail}`;
  }
  return `No Python was found (tried ${attempts.map((a) => a.launch.command).join(", ")}). Install Python ${MINIMUM_PYTHON.join(".")} or later and run \`pip install /path/to/safety-ls\` (a checkout of safety-ls or a wheel built there: it is not on the package index), or set safety-ls.server-path to a safety-ls executable.`;
}

export async function locateServer(settings: LocatorSettings): Promise<Located> {
  const attempts: Attempt[] = [];
  for (const { launch, origin } of candidates(settings)) {
    const attempt = await probe(launch, origin);
    attempts.push(attempt);
    if (attempt.outcome === "found") {
      return { found: true, launch, version: attempt.detail, origin, attempts };
    }
  }
  return { found: false, attempts, advice: advise(attempts) };
}
