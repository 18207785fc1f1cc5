-- safety-ls for Neovim: starts the safety-ls language server for Rust buffers.
--
--   require("safety_ls").setup({
--     cmd = { "safety-ls", "serve" },          -- default: `safety-ls serve` from PATH
--     settings = { profile = "structured" },   -- the keys of safety-ls.toml (docs/language-server.md)
--     on_attach = function(client, bufnr) end,
--   })
--
-- Neovim 0.11+ registers it with vim.lsp.config/vim.lsp.enable; 0.8-0.10 start it with vim.lsp.start
-- from a FileType autocmd; 0.7 with vim.lsp.start_client + vim.lsp.buf_attach_client.
--
-- The root is the Cargo workspace (the nearest Cargo.toml with [workspace]) or the nearest
-- safety-ls.toml, so one server serves every member crate. Code lenses ("Validate on GPU") are
-- refreshed on attach and after edits. require("safety_ls").code_action() offers the fixes of every
-- finding on the cursor's line, wherever the cursor is on it.
local M = {}

M.name = "safety_ls"

local defaults = {
  filetypes = { "rust" },
  -- nil: the Cargo workspace (M.root_dir). A list: the nearest directory holding one of them.
  root_markers = nil,
  settings = {},
}

-- Edits settle for this long before the lenses are asked for again.
local LENS_REFRESH_DELAY_MS = 300

local function notify(message, level)
  vim.schedule(function()
    vim.notify("safety-ls: " .. message, level or vim.log.levels.WARN)
  end)
end

--- The directory with the editor snippets and the package.json that LuaSnip's vscode loader reads.
function M.snippets_dir()
  local this_file = debug.getinfo(1, "S").source:sub(2)
  return vim.fn.fnamemodify(this_file, ":p:h:h:h") .. "/snippets"
end

local function default_cmd()
  if vim.fn.executable("safety-ls") == 1 then
    return { "safety-ls", "serve" }
  end
  return nil
end

local uv = vim.uv or vim.loop

local function read_file(path)
  local handle = io.open(path, "r")
  if not handle then
    return nil
  end
  local text = handle:read("*a")
  handle:close()
  return text
end

local function declares_workspace(manifest)
  local text = read_file(manifest)
  return text ~= nil and ("\n" .. text):find("\n%s*%[workspace%]") ~= nil
end

--- The directory a server for `path` works in: the nearest directory with a safety-ls config or a
--- Cargo.toml declaring [workspace]; else the nearest Cargo.toml's; else the nearest .git's; else the
--- file's own directory.
function M.root_dir(path)
  local start = vim.fn.fnamemodify(path, ":p:h")
  local crate, repository
  local dir = start
  while true do
    if uv.fs_stat(dir .. "/safety-ls.toml") or uv.fs_stat(dir .. "/.safety-ls.toml") then
      return dir
    end
    if uv.fs_stat(dir .. "/Cargo.toml") then
      if declares_workspace(dir .. "/Cargo.toml") then
        return dir
      end
      crate = crate or dir
    end
    if not repository and uv.fs_stat(dir .. "/.git") then
      repository = dir
    end
    local parent = vim.fn.fnamemodify(dir, ":h")
    if parent == dir then
      return crate or repository or start
    end
    dir = parent
  end
end

--- The nearest directory at or above `path` holding one of `markers` (the `root_markers` option).
local function marker_root(path, markers)
  local dir = vim.fn.fnamemodify(path, ":p:h")
  while true do
    for _, marker in ipairs(markers) do
      if uv.fs_stat(dir .. "/" .. marker) then
        return dir
      end
    end
    local parent = vim.fn.fnamemodify(dir, ":h")
    if parent == dir then
      return vim.fn.fnamemodify(path, ":p:h")
    end
    dir = parent
  end
end

local function find_root(bufnr, markers)
  local name = vim.api.nvim_buf_get_name(bufnr)
  if name == "" then
    return nil
  end
  return markers and marker_root(name, markers) or M.root_dir(name)
end

local function lens_capable(client)
  local capabilities = client.server_capabilities or client.resolved_capabilities or {}
  return capabilities.codeLensProvider ~= nil or capabilities.code_lens == true
end

local function refresh_lenses(bufnr)
  if not vim.api.nvim_buf_is_loaded(bufnr) then
    return
  end
  if vim.fn.has("nvim-0.10") == 1 then
    vim.lsp.codelens.refresh({ bufnr = bufnr })
  elseif vim.api.nvim_get_current_buf() == bufnr then
    vim.lsp.codelens.refresh() -- before 0.10 it refreshes the current buffer only
  end
end

--- Lenses on attach, and again once edits settle (nvim_buf_attach sees every change, also those a
--- plugin or a script makes, where TextChanged autocommands need a typing user).
local function keep_lenses_fresh(client, bufnr)
  if not lens_capable(client) then
    return
  end
  refresh_lenses(bufnr)
  local timer = uv.new_timer()
  vim.api.nvim_buf_attach(bufnr, false, {
    on_lines = function()
      timer:stop()
      timer:start(LENS_REFRESH_DELAY_MS, 0, vim.schedule_wrap(function()
        refresh_lenses(bufnr)
      end))
    end,
    on_detach = function()
      timer:stop()
      timer:close()
    end,
  })
  vim.api.nvim_create_autocmd("BufEnter", {
    buffer = bufnr,
    callback = function()
      refresh_lenses(bufnr)
    end,
  })
end

--- Asks the server again for the diagnostics of every buffer `client_id` serves (the pull model's
--- answer to workspace/diagnostic/refresh); the results go to Neovim's own handler.
local function pull_diagnostics(client_id)
  local client = vim.lsp.get_client_by_id(client_id)
  if not client then
    return
  end
  for _, bufnr in ipairs(vim.lsp.get_buffers_by_client_id(client_id)) do
    local params = { textDocument = { uri = vim.uri_from_bufnr(bufnr) } }
    if vim.fn.has("nvim-0.11") == 1 then
      client:request("textDocument/diagnostic", params, nil, bufnr)
    else
      client.request("textDocument/diagnostic", params, nil, bufnr) -- 0.10: a plain function field
    end
  end
end

--- Handlers for what the server asks of this Neovim when Neovim itself does not answer it, and the
--- capabilities that tell the server so: before 0.8 workspace/codeLens/refresh (after a GPU
--- validation or a config change); on 0.10 and 0.11, which pull diagnostics,
--- workspace/diagnostic/refresh (a config file read again changes the findings without an edit).
local function server_requests()
  local own, capabilities = {}, {}
  if not vim.lsp.handlers["workspace/codeLens/refresh"] then
    own["workspace/codeLens/refresh"] = function()
      for _, bufnr in ipairs(vim.api.nvim_list_bufs()) do
        refresh_lenses(bufnr)
      end
      return vim.NIL
    end
    capabilities.codeLens = { refreshSupport = true }
  end
  if vim.lsp.diagnostic.on_diagnostic and not vim.lsp.handlers["workspace/diagnostic/refresh"] then
    own["workspace/diagnostic/refresh"] = function(_, _, context)
      pull_diagnostics(context.client_id)
      return vim.NIL
    end
    capabilities.diagnostics = { refreshSupport = true }
  end
  return own, { workspace = capabilities }
end

local function client_config(opts)
  local own_handlers, answered = server_requests()
  local capabilities = vim.tbl_deep_extend(
    "force", vim.lsp.protocol.make_client_capabilities(), opts.capabilities or {}, answered
  )
  local config = {
    name = M.name,
    cmd = opts.cmd,
    filetypes = opts.filetypes,
    init_options = opts.settings,
    -- Answers the server's workspace/configuration request for the section "safety-ls".
    settings = { ["safety-ls"] = opts.settings },
    capabilities = capabilities,
    handlers = own_handlers,
    on_init = opts.on_init,
    on_attach = function(client, bufnr)
      keep_lenses_fresh(client, bufnr)
      if opts.on_attach then
        opts.on_attach(client, bufnr)
      end
    end,
    root_markers = opts.root_markers,
  }
  if not opts.root_markers then
    -- Neovim 0.11 calls this for each buffer; the 0.7-0.10 path below calls find_root itself.
    config.root_dir = function(bufnr, on_dir)
      on_dir(find_root(bufnr, nil))
    end
  end
  return config
end

--- Code actions for every finding on the cursor's line: the request covers the whole line, so the
--- fix of each finding there is offered even with the cursor before it (at the start of the line).
function M.code_action(options)
  local row = vim.api.nvim_win_get_cursor(0)[1]
  local line = vim.api.nvim_get_current_line()
  -- Both ends are inclusive (Neovim adds one to the end for the default 'selection').
  local last = math.max(#line - 1, 0)
  if vim.fn.has("nvim-0.8") == 1 then
    vim.lsp.buf.code_action(vim.tbl_extend("force", options or {}, { range = { start = { row, 0 }, ["end"] = { row, last } } }))
  else
    vim.lsp.buf.range_code_action(nil, { row, 0 }, { row, last })
  end
end

-- Neovim 0.7: one client per root directory, started by hand.
local clients_by_root = {}

local function start_for_buffer(config, bufnr)
  local root = find_root(bufnr, config.root_markers)
  local start_config = vim.tbl_extend("force", config, { root_dir = root })
  start_config.filetypes, start_config.root_markers = nil, nil
  if vim.lsp.start then
    vim.lsp.start(start_config, { bufnr = bufnr })
    return
  end
  local id = clients_by_root[root]
  if not id or not vim.lsp.get_client_by_id(id) then
    id = vim.lsp.start_client(start_config)
    clients_by_root[root] = id
  end
  if id then
    vim.lsp.buf_attach_client(bufnr, id)
  end
end

function M.setup(opts)
  opts = vim.tbl_extend("force", defaults, opts or {})
  opts.cmd = opts.cmd or default_cmd()
  if not opts.cmd then
    notify(
      "`safety-ls` is not on PATH. It is not on the Python package index: install it from a checkout "
        .. "of its repository (`pip install /path/to/safety-ls`, or a wheel built there with `pip wheel`), "
        .. "or pass cmd = { \"/path/to/python\", \"-m\", \"safety_ls\", \"serve\" } to setup()."
    )
    return false
  end
  local config = client_config(opts)
  if vim.lsp.config and vim.lsp.enable then
    vim.lsp.config(M.name, config)
    vim.lsp.enable(M.name)
    return true
  end
  local group = vim.api.nvim_create_augroup("safety_ls", { clear = true })
  vim.api.nvim_create_autocmd("FileType", {
    group = group,
    pattern = config.filetypes,
    callback = function(args)
      start_for_buffer(config, args.buf)
    end,
  })
  -- Buffers already open when setup() runs (a plugin manager loading it late).
  for _, bufnr in ipairs(vim.api.nvim_list_bufs()) do
    if vim.api.nvim_buf_is_loaded(bufnr) and vim.tbl_contains(config.filetypes, vim.bo[bufnr].filetype) then
      start_for_buffer(config, bufnr)
    end
  end
  return true
end

return M
