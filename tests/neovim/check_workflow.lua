-- Run by tests/editors/test_neovim.py in a headless Neovim (0.7.2 and 0.11):
--   nvim --headless -u NONE -i NONE -n -c "luafile check_workflow.lua"
-- Loads the plugin with require("safety_ls").setup{}, opens FILE and checks one everyday workflow
-- (MODE), writing what it saw to RESULT as JSON. Exits 0 (qall!) on success, 1 (cquit) otherwise.
--   line-actions: with the cursor at column 0 of LINE (1-based), the code action menu of
--     require("safety_ls").code_action() and of vim.lsp.buf.code_action(); then picks the fix for
--     RULE from the plugin's menu and waits for the finding to go.
--   lenses: waits for code lenses without asking for them, inserts three lines at the top, and
--     waits for the lenses to follow.
--   root: waits for the client and reports its root directory.
--   config-save: writes CONFIG (CONFIG_TEXT) behind the editor's back, saves the buffer, and waits for
--     RULE's findings to go (Neovim on Linux watches no files: the server must notice on save).
--   lenses-config-save: the same with a config that adds `launch-patterns`, waiting for lenses.
local env = vim.env

local function write_result(result)
  local handle = assert(io.open(env.RESULT, "w"))
  handle:write(vim.fn.json_encode(result))
  handle:close()
end

local function lsp_client(bufnr)
  local clients = vim.lsp.get_clients and vim.lsp.get_clients({ bufnr = bufnr }) or vim.lsp.buf_get_clients(bufnr)
  for _, client in pairs(clients) do
    if client.name == "safety_ls" then
      return client
    end
  end
end

local function findings(bufnr, rule, lnum)
  local found = {}
  for _, diagnostic in ipairs(vim.diagnostic.get(bufnr, lnum and { lnum = lnum } or nil)) do
    if diagnostic.code == rule then
      table.insert(found, diagnostic)
    end
  end
  return found
end

local function open()
  assert(require("safety_ls").setup({}), "setup() failed")
  vim.cmd("edit " .. vim.fn.fnameescape(env.FILE))
  local bufnr = vim.api.nvim_get_current_buf()
  assert(vim.wait(30000, function()
    return lsp_client(bufnr) ~= nil
  end, 20), "the safety_ls client did not attach within 30 s")
  return bufnr
end

--- The titles a code action call puts in the menu; `choose` picks one (by title) to apply.
local function menu(call, choose)
  local titles, shown = {}, false
  local original = vim.ui.select
  vim.ui.select = function(items, options, on_choice)
    local chosen
    for _, item in ipairs(items) do
      local title = options.format_item(item)
      table.insert(titles, title)
      if choose and not chosen and title:find(choose, 1, true) then
        chosen = item
      end
    end
    shown = true
    on_choice(chosen)
  end
  call()
  vim.wait(15000, function()
    return shown
  end, 20)
  vim.ui.select = original
  return titles
end

local function check_line_actions()
  local bufnr = open()
  local line = tonumber(env.LINE)
  assert(vim.wait(30000, function()
    return #findings(bufnr, env.RULE, line - 1) > 0
  end, 20), "no " .. env.RULE .. " diagnostic on line " .. line)
  local target = findings(bufnr, env.RULE, line - 1)[1]
  assert(target.col > 0, "the finding starts at column 0: the test needs one further right")
  vim.api.nvim_win_set_cursor(0, { line, 0 })
  local at_cursor = menu(function()
    vim.lsp.buf.code_action()
  end, nil)
  vim.api.nvim_win_set_cursor(0, { line, 0 })
  local for_line = menu(function()
    require("safety_ls").code_action()
  end, "(" .. env.RULE .. ")")
  local fixed = vim.wait(15000, function()
    return #findings(bufnr, env.RULE, line) == 0 and #findings(bufnr, env.RULE, line - 1) == 0
  end, 20)
  write_result({ at_cursor = at_cursor, for_line = for_line, fixed = fixed, column = target.col })
end

local function lens_lines(bufnr)
  local lines = {}
  for _, lens in ipairs(vim.lsp.codelens.get(bufnr)) do
    table.insert(lines, lens.range.start.line)
  end
  table.sort(lines)
  return lines
end

local function check_lenses()
  local bufnr = open()
  local first_ok = vim.wait(30000, function()
    return #lens_lines(bufnr) > 0
  end, 20)
  local before = lens_lines(bufnr)
  vim.api.nvim_buf_set_lines(bufnr, 0, 0, false, { "// one", "// two", "// three" })
  local moved_ok = vim.wait(15000, function()
    local now = lens_lines(bufnr)
    return #now > 0 and now[1] == before[1] + 3
  end, 20)
  write_result({ appeared = first_ok, before = before, after = lens_lines(bufnr), followed = moved_ok })
end

--- Writes CONFIG_TEXT to CONFIG from outside the editor (no file watcher sees it), then saves the
--- buffer without changing it: the server must read the config again and say so.
local function change_config_and_save(bufnr)
  local handle = assert(io.open(env.CONFIG, "w"))
  handle:write(env.CONFIG_TEXT .. "\n")
  handle:close()
  vim.api.nvim_set_current_buf(bufnr)
  vim.cmd("write")
end

local function check_config_save()
  local bufnr = open()
  local reported = vim.wait(30000, function()
    return #findings(bufnr, env.RULE) > 0
  end, 20)
  change_config_and_save(bufnr)
  local gone = vim.wait(15000, function()
    return #findings(bufnr, env.RULE) == 0
  end, 20)
  write_result({ reported = reported, gone_after_save = gone })
end

local function check_lenses_after_config_save()
  local bufnr = open()
  vim.wait(30000, function()
    return #vim.diagnostic.get(bufnr) > 0 or #lens_lines(bufnr) > 0
  end, 20)
  vim.wait(1000) -- the lenses asked for on attach have had their answer
  local before = lens_lines(bufnr)
  change_config_and_save(bufnr)
  local appeared = vim.wait(15000, function()
    return #lens_lines(bufnr) > 0
  end, 20)
  write_result({ before = before, after = lens_lines(bufnr), appeared = appeared })
end

local function check_root()
  local bufnr = open()
  local client = lsp_client(bufnr)
  write_result({
    client_root = client.config.root_dir,
    plugin_root = require("safety_ls").root_dir(env.FILE),
  })
end

local ok, error_message = xpcall(function()
  vim.opt.runtimepath:prepend(env.SAFETY_LS_ROOT)
  vim.cmd("filetype on")
  local checks = {
    ["line-actions"] = check_line_actions,
    lenses = check_lenses,
    root = check_root,
    ["config-save"] = check_config_save,
    ["lenses-config-save"] = check_lenses_after_config_save,
  }
  assert(checks[env.MODE], "unknown MODE " .. tostring(env.MODE))()
end, debug.traceback)

if ok then
  vim.cmd("qall!")
else
  io.stderr:write(tostring(error_message) .. "\n")
  vim.cmd("cquit 1")
end
