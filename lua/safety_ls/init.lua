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
local M = {}

M.name = "safety_ls"

local defaults = {
  filetypes = { "rust" },
  root_markers = { "safety-ls.toml", ".safety-ls.toml", "Cargo.toml", ".git" },
  settings = {},
}

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

local function client_config(opts)
  return {
    name = M.name,
    cmd = opts.cmd,
    filetypes = opts.filetypes,
    root_markers = opts.root_markers,
    init_options = opts.settings,
    -- Answers the server's workspace/configuration request for the section "safety-ls".
    settings = { ["safety-ls"] = opts.settings },
    capabilities = opts.capabilities,
    on_init = opts.on_init,
    on_attach = opts.on_attach,
  }
end

local uv = vim.uv or vim.loop

--- The nearest directory at or above the buffer's file holding one of the markers.
local function find_root(bufnr, markers)
  local name = vim.api.nvim_buf_get_name(bufnr)
  if name == "" then
    return nil
  end
  local dir = vim.fn.fnamemodify(name, ":p:h")
  while true do
    for _, marker in ipairs(markers) do
      if uv.fs_stat(dir .. "/" .. marker) then
        return dir
      end
    end
    local parent = vim.fn.fnamemodify(dir, ":h")
    if parent == dir then
      return vim.fn.fnamemodify(name, ":p:h")
    end
    dir = parent
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
      "`safety-ls` is not on PATH. Install it with `pip install safety-ls` (or `pipx install safety-ls`), "
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
