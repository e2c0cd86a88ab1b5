package commands

// Administrative commands with little to do in Crescent: MODULE (no
// module can be loaded), LOLWUT, CONFIG HELP and SCRIPT DEBUG (its
// mode; the debugger is in internal/script/lua/ldb.go).

import (
	"strconv"

	"github.com/crescent-db/crescent/internal/command"
)

const (
	// errModuleNotAllowed is Redis's reply to MODULE LOAD, LOADEX and
	// UNLOAD where enable-module-command forbids them (the default).
	errModuleNotAllowed = `ERR MODULE command not allowed. If the enable-module-command option is set to "local", you can run it from a local connection, otherwise you need to set this option in the configuration file, and then restart the server.`
	errModuleLoad       = "ERR Error loading the extension. Please check the server logs."
	errModuleUnload     = "ERR Error unloading module: no such module with that name"
	// errNoLuaDebugger answers SCRIPT DEBUG YES and SYNC from a client
	// without a connection of its own (the AOF loader).
	errNoLuaDebugger = "ERR SCRIPT DEBUG YES/SYNC needs a client connection"
)

func (h *Handlers) registerAdmin() {
	t := h.Table
	none := command.WithLock(command.LockNone)
	t.Handle("module|list", func(c *command.Ctx) { c.W.Array(0) }, none)
	t.Handle("module|load", h.moduleLoad, none)
	t.Handle("module|loadex", h.moduleLoad, none)
	t.Handle("module|unload", h.moduleUnload, none)
	t.Handle("module|help", func(c *command.Ctx) { writeHelp(c, moduleHelp) }, none)
	t.Handle("config|help", func(c *command.Ctx) { writeHelp(c, configHelp) }, none)
	t.Handle("script|debug", h.scriptDebug, none)
	t.Handle("lolwut", h.lolwut, none)
}

var moduleHelp = []string{
	"MODULE <subcommand> [<arg> [value] [opt] ...]. Subcommands are:",
	"LIST",
	"    Return a list of loaded modules.",
	"LOAD <path> [<arg> ...]",
	"    Load a module library from <path>, passing to it any optional arguments.",
	"LOADEX <path> [[CONFIG NAME VALUE] [CONFIG NAME VALUE]] [ARGS ...]",
	"    Load a module library from <path>, while passing it module configurations and optional arguments.",
	"UNLOAD <name>",
	"    Unload a module.",
	"HELP",
	"    Prints this help.",
}

var configHelp = []string{
	"CONFIG <subcommand> [<arg> [value] [opt] ...]. Subcommands are:",
	"GET <pattern>",
	"    Return parameters matching the glob-like <pattern> and their values.",
	"SET <directive> <value>",
	"    Set the configuration <directive> to <value>.",
	"RESETSTAT",
	"    Reset statistics reported by the INFO command.",
	"REWRITE",
	"    Rewrite the configuration file.",
	"HELP",
	"    Prints this help.",
}

// moduleLoad implements MODULE LOAD and LOADEX: Crescent loads no
// modules (they are shared objects written against Redis's C API), so
// where enable-module-command allows the command it fails as Redis does
// for a library it cannot load, and logs why.
func (h *Handlers) moduleLoad(c *command.Ctx) {
	if !h.protectedAllowed("enable-module-command", c.Client) {
		c.Error(errModuleNotAllowed)
		return
	}
	if h.Log != nil {
		h.Log.Warn("module failed to load: Crescent does not load Redis modules", "path", string(c.Args[2]))
	}
	c.Error(errModuleLoad)
}

// moduleUnload implements MODULE UNLOAD: no module is ever loaded.
func (h *Handlers) moduleUnload(c *command.Ctx) {
	if !h.protectedAllowed("enable-module-command", c.Client) {
		c.Error(errModuleNotAllowed)
		return
	}
	c.Error(errModuleUnload)
}

// scriptDebug implements SCRIPT DEBUG: YES and SYNC make the client's
// next EVAL run under the Lua debugger (scripting.go, evalDebug).
func (h *Handlers) scriptDebug(c *command.Ctx) {
	if c.Client != nil && c.Client.Flags&command.ClientMulti != 0 {
		// inside EXEC the transaction's reply is pending, as in Redis
		c.Error("ERR SCRIPT DEBUG must be called outside a pipeline")
		return
	}
	switch {
	case EqualFold(c.Args[2], "no"):
		c.Client.LuaDebug = 0
		c.W.OK()
	case c.Client.DebugConn == nil: // not a network client
		c.Error(errNoLuaDebugger)
	case EqualFold(c.Args[2], "yes"):
		c.Client.LuaDebug = command.DebugAsync
		c.W.OK()
	case EqualFold(c.Args[2], "sync"):
		c.Client.LuaDebug = command.DebugSync
		c.W.OK()
	default:
		c.Error("ERR Use SCRIPT DEBUG YES/SYNC/NO")
	}
}

// lolwut implements LOLWUT [VERSION v] [args...] as lolwutCommand: the art
// of Redis 5 for VERSION 5, of Redis 6 for VERSION 6 (lolwut.go), else
// (Redis 7.0 has none of its own) the version line.
func (h *Handlers) lolwut(c *command.Ctx) {
	v := RedisVersion
	args := c.Args[1:]
	if len(c.Args) >= 3 && EqualFold(c.Args[1], "version") {
		n, ok := ParseInt(c.Args[2])
		if !ok {
			c.Error(ErrNotInt)
			return
		}
		v = strconv.FormatUint(uint64(uint32(n)), 10) + ".0.0" // "%u.0.0" of an unsigned int
		args = c.Args[3:]
	}
	switch {
	case v[0] == '5' && v[1] == '.' && v[2] != '9' || v[0] == '4' && v[1] == '.' && v[2] == '9':
		h.lolwut5(c, args)
	case v[0] == '6' && v[1] == '.' && v[2] != '9' || v[0] == '5' && v[1] == '.' && v[2] == '9':
		h.lolwut6(c, args)
	default:
		c.W.Verbatim("txt", "Redis ver. "+RedisVersion+"\n")
	}
}
