// The extension ships the project's snippets file unchanged: copy it in at build time
// (snippets/ is generated from the templates and is the one source; see scripts/generate_snippets.py).
import { copyFileSync, mkdirSync } from "node:fs";
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";

const extensionRoot = join(dirname(fileURLToPath(import.meta.url)), "..");
const source = join(extensionRoot, "..", "snippets", "safety-ls.code-snippets");
const target = join(extensionRoot, "snippets", "safety-ls.code-snippets");
mkdirSync(dirname(target), { recursive: true });
copyFileSync(source, target);
