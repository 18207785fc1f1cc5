-- Run by tests/editors/test_neovim.py in a headless Neovim (0.7.2 and 0.11):
--   nvim --headless -u NONE -i NONE -n -c "luafile check_plugin.lua"
-- Loads the plugin from the repository's lua/ with require("safety_ls").setup{}, opens FILE, waits for
-- the server's diagnostics, applies the code action for FIX_RULE, writes the file, and writes what it
-- saw to RESULT as JSON. Exits 0 (qall!) on success, 1 (cquit) with the reason on stderr otherwise.
-- Environment: SAFETY_LS_ROOT, FILE, FIX_RULE, EXPECTED_FINDINGS, RESULT, SETUP_FILE (optional), and MODE ("fix", or
-- "no-server" to check what setup() says when safety-ls is not on PATH).
local env = vim.env
local started = vim.loop.hrtime()

local function elapsed_ms()
  return math.floor((vim.loop.hrtime() - started) / 1e6)
end

local function write_result(result)
  local handle = assert(io.open(env.RESULT, "w"))
  handle:write(vim.fn.json_encode(result))
  handle:close()
end

local function check_missing_server()
  local messages = {}
  vim.notify = function(message)
    table.insert(messages, message)
  end
  local started_server = require("safety_ls").setup({})
  assert(started_server == false, "setup() should report that it could not start the server")
  assert(vim.wait(2000, function()
    return #messages > 0
  end, 20), "setup() said nothing")
  write_result({ messages = messages })
end

local function lsp_client(bufnr)
  -- get_clients is 0.10+; 0.7's get_active_clients takes no filter.
  local clients = vim.lsp.get_clients and vim.lsp.get_clients({ bufnr = bufnr }) or vim.lsp.get_active_clients()
  for _, client in pairs(clients) do
    if client.name == "safety_ls" then
      return client
    end
  end
end

local function findings(bufnr, rule)
  local found = {}
  for _, diagnostic in ipairs(vim.diagnostic.get(bufnr)) do
    if rule == nil or diagnostic.code == rule then
      table.insert(found, diagnostic)
    end
  end
  return found
end

local function check_fix()
  local expected = tonumber(env.EXPECTED_FINDINGS)
  local rule = env.FIX_RULE
  -- SETUP_FILE: configuration to source instead of the plugin's setup() (the README's native config).
  local through_plugin = not env.SETUP_FILE
  if through_plugin then
    assert(require("safety_ls").setup({ settings = { severity = { [rule] = "error" } } }), "setup() failed")
  else
    vim.cmd("luafile " .. vim.fn.fnameescape(env.SETUP_FILE))
  end
  local opened = vim.loop.hrtime()
  vim.cmd("edit " .. vim.fn.fnameescape(env.FILE))
  local bufnr = vim.api.nvim_get_current_buf()
  assert(vim.bo[bufnr].filetype == "rust", "filetype is " .. vim.bo[bufnr].filetype)
  assert(vim.wait(30000, function()
    return #findings(bufnr, rule) > 0
  end, 20), "no " .. rule .. " diagnostic within 30 s")
  local first_diagnostics_ms = math.floor((vim.loop.hrtime() - opened) / 1e6)
  local client = assert(lsp_client(bufnr), "the safety_ls client is not attached")

  local target = findings(bufnr, rule)[1]
  if through_plugin then
    assert(target.severity == vim.diagnostic.severity.ERROR, "the severity setting did not reach the server")
  end
  -- As vim.lsp.buf.code_action sends it (0.7 keeps only the LSP code in user_data); the line is ASCII,
  -- so byte columns are UTF-16 columns too.
  local lsp_diagnostic = {
    range = {
      start = { line = target.lnum, character = target.col },
      ["end"] = { line = target.end_lnum, character = target.end_col },
    },
    severity = target.severity,
    code = target.code,
    source = target.source,
    message = target.message,
  }
  local params = {
    textDocument = { uri = vim.uri_from_bufnr(bufnr) },
    range = lsp_diagnostic.range,
    context = { diagnostics = { lsp_diagnostic } },
  }
  local responses = assert(vim.lsp.buf_request_sync(bufnr, "textDocument/codeAction", params, 15000))
  -- Every message sent before the code action has been answered: pushed and any pulled diagnostics are in.
  local all = findings(bufnr)
  assert(#all == expected, ("%d diagnostics, expected %d (each finding once)"):format(#all, expected))

  local chosen, titles = nil, {}
  for _, response in pairs(responses) do
    for _, action in ipairs(response.result or {}) do
      table.insert(titles, action.title)
      if not chosen and action.title:find("(" .. rule .. ")", 1, true) then
        chosen = action
      end
    end
  end
  assert(chosen, "no code action for " .. rule .. " among: " .. table.concat(titles, " | "))
  vim.lsp.util.apply_workspace_edit(chosen.edit, client.offset_encoding)
  vim.cmd("write")
  assert(vim.wait(15000, function()
    return #findings(bufnr, rule) == 0
  end, 20), "the server still reports " .. rule .. " after the fix")
  write_result({
    first_diagnostics_ms = first_diagnostics_ms,
    findings = expected,
    action = chosen.title,
    offset_encoding = client.offset_encoding,
    snippets_dir = require("safety_ls").snippets_dir(),
    total_ms = elapsed_ms(),
  })
end

local ok, error_message = xpcall(function()
  vim.opt.runtimepath:prepend(env.SAFETY_LS_ROOT)
  vim.cmd("filetype on")
  if env.MODE == "no-server" then
    check_missing_server()
  else
    check_fix()
  end
end, debug.traceback)

if ok then
  vim.cmd("qall!")
else
  io.stderr:write(tostring(error_message) .. "\n")
  vim.cmd("cquit 1")
end
