package lualib

import (
	"testing"

	lua "github.com/yuin/gopher-lua"
)

// callLib calls module.fn(args...) in a protected call and returns whether it
// succeeded. Lua errors are expected for bad input; Go panics are not.
func callLib(t *testing.T, L *lua.LState, module, fn string, args ...lua.LValue) bool {
	t.Helper()
	f := L.GetField(L.GetGlobal(module), fn)
	err := L.CallByParam(lua.P{Fn: f, NRet: lua.MultRet, Protect: true}, args...)
	L.SetTop(0)
	if err != nil {
		// gopher-lua turns Go panics into ApiErrorPanic errors.
		if ae, ok := err.(*lua.ApiError); !ok || ae.Type != lua.ApiErrorRun {
			t.Fatalf("%s.%s: unexpected error %T: %v", module, fn, err, err)
		}
		return false
	}
	return true
}

func newFuzzState() *lua.LState {
	L := lua.NewState(lua.Options{SkipOpenLibs: true, RegistrySize: 1024 * 20})
	OpenAll(L)
	return L
}

func FuzzCJSONDecode(f *testing.F) {
	for _, s := range []string{
		`[1,2,3]`, `{"a":{"b":[null,true,false]}}`, `"\u00e9\ud83d\ude00"`, `1e400`,
		`[+1, 0x10, inf, -nan]`, `{"a" 1}`, "[1]\x00x", "\x00[", `"\ud800"`,
		`[[[[[[[[[[`, `{"":""}`, `-`, `0x1p-3`, `nul`, `"abc`,
	} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		L := newFuzzState()
		defer L.Close()
		if callLib(t, L, "cjson", "decode", lua.LString(s)) {
			// Whatever decodes must also encode (or fail cleanly).
			L.SetTop(0)
			_ = L.CallByParam(lua.P{Fn: L.GetField(L.GetGlobal("cjson"), "decode"), NRet: 1, Protect: true}, lua.LString(s))
			v := L.Get(-1)
			L.SetTop(0)
			cfg := L.GetField(L.GetGlobal("cjson"), "encode_invalid_numbers")
			_ = L.CallByParam(lua.P{Fn: cfg, NRet: 1, Protect: true}, lua.LTrue)
			L.SetTop(0)
			callLib(t, L, "cjson", "encode", v)
		}
	})
}

func FuzzCMsgpackUnpack(f *testing.F) {
	for _, s := range []string{
		"\x93\x01\x02\x03", "\x81\xa1a\x01", "\xcf\xff\xff\xff\xff\xff\xff\xff\xff",
		"\xd9\x03abc", "\xdb\xff\xff\xff\xff", "\xdd\xff\xff\xff\xff", "\xc1",
		"\x81\xc0\x01", "\xca\x7f\xc0\x00\x00", "\x91\x91\x91\x91\x01",
	} {
		f.Add(s, int64(1), int64(0))
	}
	f.Fuzz(func(t *testing.T, s string, limit, offset int64) {
		L := newFuzzState()
		defer L.Close()
		if callLib(t, L, "cmsgpack", "unpack", lua.LString(s)) {
			L.SetTop(0)
		}
		callLib(t, L, "cmsgpack", "unpack_one", lua.LString(s), lua.LNumber(offset))
		callLib(t, L, "cmsgpack", "unpack_limit", lua.LString(s), lua.LNumber(limit), lua.LNumber(offset))
	})
}
