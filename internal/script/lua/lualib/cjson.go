package lualib

import (
	"fmt"
	"math"
	"strings"

	lua "github.com/yuin/gopher-lua"
)

const (
	cjsonModName = "cjson"
	cjsonVersion = "2.1.0"
	nullRegKey   = "crescent.lualib.cjson.null"
)

// jsonConfig is the per-module-table configuration of cjson. Like the C
// library it lives in a userdata shared as upvalue by the module functions,
// so cjson.new() tables have independent settings.
type jsonConfig struct {
	encodeSparseConvert   int
	encodeSparseRatio     int
	encodeSparseSafe      int
	encodeMaxDepth        int
	encodeInvalidNumbers  int // 0: error, 1: allow, 2: encode as null
	encodeNumberPrecision int
	encodeKeepBuffer      int
	decodeInvalidNumbers  int
	decodeMaxDepth        int
	null                  lua.LValue
}

func newJSONConfig(null lua.LValue) *jsonConfig {
	return &jsonConfig{
		encodeSparseConvert:   0,
		encodeSparseRatio:     2,
		encodeSparseSafe:      10,
		encodeMaxDepth:        1000,
		encodeInvalidNumbers:  0,
		encodeNumberPrecision: 14,
		encodeKeepBuffer:      1,
		decodeInvalidNumbers:  1,
		decodeMaxDepth:        1000,
		null:                  null,
	}
}

// JSONNull returns the value used for cjson.null in L (the equivalent of the
// C library's NULL lightuserdata). Scripts compare decoded JSON nulls with
// it. It is created on first use and is unique per state.
func JSONNull(L *lua.LState) *lua.LUserData {
	reg := L.Get(lua.RegistryIndex).(*lua.LTable)
	if ud, ok := reg.RawGetString(nullRegKey).(*lua.LUserData); ok {
		return ud
	}
	ud := L.NewUserData()
	mt := L.NewTable()
	mt.RawSetString("__tostring", L.NewFunction(func(L *lua.LState) int {
		L.Push(lua.LString("userdata: (nil)"))
		return 1
	}))
	ud.Metatable = mt
	reg.RawSetString(nullRegKey, ud)
	return ud
}

// OpenCJSON registers the global table "cjson", a port of lua-cjson 2.1.0 as
// bundled with Redis 7.0.
func OpenCJSON(L *lua.LState) {
	L.SetGlobal("cjson", newCJSONModule(L))
}

func newCJSONModule(L *lua.LState) *lua.LTable {
	cfg := newJSONConfig(JSONNull(L))
	ud := L.NewUserData()
	ud.Value = cfg
	funcs := map[string]lua.LGFunction{
		"encode":                  jsonEncode,
		"decode":                  jsonDecode,
		"encode_sparse_array":     jsonCfgEncodeSparseArray,
		"encode_max_depth":        jsonCfgEncodeMaxDepth,
		"decode_max_depth":        jsonCfgDecodeMaxDepth,
		"encode_number_precision": jsonCfgEncodeNumberPrecision,
		"encode_keep_buffer":      jsonCfgEncodeKeepBuffer,
		"encode_invalid_numbers":  jsonCfgEncodeInvalidNumbers,
		"decode_invalid_numbers":  jsonCfgDecodeInvalidNumbers,
		"new":                     jsonNew,
	}
	t := L.NewTable()
	for name, fn := range funcs {
		t.RawSetString(name, L.NewClosure(fn, ud))
	}
	t.RawSetString("null", cfg.null)
	t.RawSetString("_NAME", lua.LString(cjsonModName))
	t.RawSetString("_VERSION", lua.LString(cjsonVersion))
	return t
}

func jsonNew(L *lua.LState) int {
	L.Push(newCJSONModule(L))
	return 1
}

func jsonFetchConfig(L *lua.LState) *jsonConfig {
	ud, ok := L.Get(lua.UpvalueIndex(1)).(*lua.LUserData)
	if ok {
		if cfg, ok := ud.Value.(*jsonConfig); ok {
			return cfg
		}
	}
	raise(L, "BUG: Unable to fetch CJSON configuration")
	return nil
}

// ------------------------------------------------------------ configuration

// jsonArgInit mimics json_arg_init: at most args arguments, missing ones
// are treated as nil.
func jsonArgInit(L *lua.LState, args int) {
	if L.GetTop() > args {
		argError(L, args+1, "found too many arguments")
	}
	for L.GetTop() < args {
		L.Push(lua.LNil)
	}
}

func jsonIntegerOption(L *lua.LState, idx int, setting *int, min, max int) {
	if L.Get(idx) != lua.LNil {
		value := int(int32(checkInteger(L, idx)))
		if !(min <= value && value <= max) {
			argError(L, 1, fmt.Sprintf("expected integer between %d and %d", min, max))
		}
		*setting = value
	}
	L.Push(lua.LNumber(float64(*setting)))
}

// checkOption mimics luaL_checkoption with no default.
func checkOption(L *lua.LState, idx int, options []string) int {
	name := checkString(L, idx)
	for i, o := range options {
		if o == name {
			return i
		}
	}
	argError(L, idx, fmt.Sprintf("invalid option '%s'", name))
	return 0
}

func jsonEnumOption(L *lua.LState, idx int, setting *int, options []string, boolTrue int) {
	if options == nil {
		options = []string{"off", "on"}
		boolTrue = 1
	}
	if v := L.Get(idx); v != lua.LNil {
		if b, ok := v.(lua.LBool); boolTrue != 0 && ok {
			if b {
				*setting = boolTrue
			} else {
				*setting = 0
			}
		} else {
			*setting = checkOption(L, idx, options)
		}
	}
	if boolTrue != 0 && (*setting == 0 || *setting == boolTrue) {
		L.Push(lua.LBool(*setting != 0))
	} else {
		L.Push(lua.LString(options[*setting]))
	}
}

func jsonCfgEncodeSparseArray(L *lua.LState) int {
	cfg := jsonFetchConfig(L)
	jsonArgInit(L, 3)
	jsonEnumOption(L, 1, &cfg.encodeSparseConvert, nil, 1)
	jsonIntegerOption(L, 2, &cfg.encodeSparseRatio, 0, math.MaxInt32)
	jsonIntegerOption(L, 3, &cfg.encodeSparseSafe, 0, math.MaxInt32)
	return 3
}

func jsonCfgEncodeMaxDepth(L *lua.LState) int {
	cfg := jsonFetchConfig(L)
	jsonArgInit(L, 1)
	jsonIntegerOption(L, 1, &cfg.encodeMaxDepth, 1, math.MaxInt32)
	return 1
}

func jsonCfgDecodeMaxDepth(L *lua.LState) int {
	cfg := jsonFetchConfig(L)
	jsonArgInit(L, 1)
	jsonIntegerOption(L, 1, &cfg.decodeMaxDepth, 1, math.MaxInt32)
	return 1
}

func jsonCfgEncodeNumberPrecision(L *lua.LState) int {
	cfg := jsonFetchConfig(L)
	jsonArgInit(L, 1)
	jsonIntegerOption(L, 1, &cfg.encodeNumberPrecision, 1, 14)
	return 1
}

func jsonCfgEncodeKeepBuffer(L *lua.LState) int {
	cfg := jsonFetchConfig(L)
	jsonArgInit(L, 1)
	jsonEnumOption(L, 1, &cfg.encodeKeepBuffer, nil, 1)
	return 1
}

func jsonCfgEncodeInvalidNumbers(L *lua.LState) int {
	cfg := jsonFetchConfig(L)
	jsonArgInit(L, 1)
	jsonEnumOption(L, 1, &cfg.encodeInvalidNumbers, []string{"off", "on", "null"}, 1)
	return 1
}

func jsonCfgDecodeInvalidNumbers(L *lua.LState) int {
	cfg := jsonFetchConfig(L)
	jsonArgInit(L, 1)
	jsonEnumOption(L, 1, &cfg.decodeInvalidNumbers, nil, 1)
	return 1
}

// ----------------------------------------------------------------- encoding

var jsonEscapes = func() [256]string {
	var e [256]string
	for i := 0; i < 32; i++ {
		e[i] = fmt.Sprintf("\\u%04x", i)
	}
	e['\b'] = "\\b"
	e['\t'] = "\\t"
	e['\n'] = "\\n"
	e['\f'] = "\\f"
	e['\r'] = "\\r"
	e['"'] = "\\\""
	e['\\'] = "\\\\"
	e['/'] = "\\/"
	e[127] = "\\u007f"
	return e
}()

type jsonEncoder struct {
	L   *lua.LState
	cfg *jsonConfig
	buf strings.Builder
}

func (e *jsonEncoder) exception(v lua.LValue, reason string) {
	raise(e.L, "Cannot serialise %s: %s", v.Type().String(), reason)
}

func (e *jsonEncoder) appendString(s string) {
	e.buf.WriteByte('"')
	for i := 0; i < len(s); i++ {
		if esc := jsonEscapes[s[i]]; esc != "" {
			e.buf.WriteString(esc)
		} else {
			e.buf.WriteByte(s[i])
		}
	}
	e.buf.WriteByte('"')
}

func (e *jsonEncoder) appendNumber(v lua.LValue, num float64) {
	switch e.cfg.encodeInvalidNumbers {
	case 0:
		if math.IsInf(num, 0) || math.IsNaN(num) {
			e.exception(v, "must not be NaN or Inf")
		}
	case 1:
		if math.IsNaN(num) {
			e.buf.WriteString("nan")
			return
		}
	default:
		if math.IsInf(num, 0) || math.IsNaN(num) {
			e.buf.WriteString("null")
			return
		}
	}
	e.buf.WriteString(fmtG(num, e.cfg.encodeNumberPrecision))
}

// arrayLength mimics lua_array_length: -1 when the table must be encoded as
// an object, otherwise the array length.
func (e *jsonEncoder) arrayLength(t *lua.LTable) int {
	max := int32(0)
	items := int32(0)
	isArray := true
	t.ForEach(func(k, _ lua.LValue) {
		if !isArray {
			return
		}
		if n, ok := k.(lua.LNumber); ok && n != 0 {
			f := float64(n)
			if math.Floor(f) == f && f >= 1 {
				if f > float64(max) {
					max = cInt32(f)
				}
				items++
				return
			}
		}
		isArray = false
	})
	if !isArray {
		return -1
	}
	cfg := e.cfg
	if cfg.encodeSparseRatio > 0 && max > items*int32(cfg.encodeSparseRatio) && int(max) > cfg.encodeSparseSafe {
		if cfg.encodeSparseConvert == 0 {
			e.exception(t, "excessively sparse array")
		}
		return -1
	}
	return int(max)
}

func (e *jsonEncoder) appendData(v lua.LValue, depth int) {
	switch x := v.(type) {
	case lua.LString:
		e.appendString(string(x))
	case lua.LNumber:
		e.appendNumber(x, float64(x))
	case lua.LBool:
		if x {
			e.buf.WriteString("true")
		} else {
			e.buf.WriteString("false")
		}
	case *lua.LTable:
		depth++
		if depth > e.cfg.encodeMaxDepth {
			raise(e.L, "Cannot serialise, excessive nesting (%d)", depth)
		}
		n := e.arrayLength(x)
		if n > 0 {
			e.buf.WriteByte('[')
			for i := 1; i <= n; i++ {
				if i > 1 {
					e.buf.WriteByte(',')
				}
				e.appendData(x.RawGetInt(i), depth)
			}
			e.buf.WriteByte(']')
			return
		}
		e.buf.WriteByte('{')
		comma := false
		x.ForEach(func(k, val lua.LValue) {
			if comma {
				e.buf.WriteByte(',')
			} else {
				comma = true
			}
			switch kk := k.(type) {
			case lua.LNumber:
				e.buf.WriteByte('"')
				e.appendNumber(kk, float64(kk))
				e.buf.WriteString("\":")
			case lua.LString:
				e.appendString(string(kk))
				e.buf.WriteByte(':')
			default:
				e.exception(k, "table key must be a number or string")
			}
			e.appendData(val, depth)
		})
		e.buf.WriteByte('}')
	default:
		if v == lua.LNil || v == e.cfg.null {
			e.buf.WriteString("null")
			return
		}
		e.exception(v, "type not supported")
	}
}

func jsonEncode(L *lua.LState) int {
	cfg := jsonFetchConfig(L)
	if L.GetTop() != 1 {
		argError(L, 1, "expected 1 argument")
	}
	e := &jsonEncoder{L: L, cfg: cfg}
	e.appendData(L.Get(1), 0)
	L.Push(lua.LString(e.buf.String()))
	return 1
}

// ----------------------------------------------------------------- decoding

type jsonTokenType int

const (
	tObjBegin jsonTokenType = iota
	tObjEnd
	tArrBegin
	tArrEnd
	tString
	tNumber
	tBoolean
	tNull
	tColon
	tComma
	tEnd
	tWhitespace
	tError
	tUnknown
)

var jsonTokenNames = [...]string{
	"T_OBJ_BEGIN", "T_OBJ_END", "T_ARR_BEGIN", "T_ARR_END", "T_STRING",
	"T_NUMBER", "T_BOOLEAN", "T_NULL", "T_COLON", "T_COMMA", "T_END",
	"T_WHITESPACE", "T_ERROR", "T_UNKNOWN",
}

func jsonCh2Token(c byte) jsonTokenType {
	switch c {
	case '{':
		return tObjBegin
	case '}':
		return tObjEnd
	case '[':
		return tArrBegin
	case ']':
		return tArrEnd
	case ',':
		return tComma
	case ':':
		return tColon
	case 0:
		return tEnd
	case ' ', '\t', '\n', '\r':
		return tWhitespace
	case 'f', 'i', 'I', 'n', 'N', 't', '"', '+', '-':
		return tUnknown
	}
	if c >= '0' && c <= '9' {
		return tUnknown
	}
	return tError
}

func jsonEscape2Char(c byte) byte {
	switch c {
	case '"', '\\', '/':
		return c
	case 'b':
		return '\b'
	case 't':
		return '\t'
	case 'n':
		return '\n'
	case 'f':
		return '\f'
	case 'r':
		return '\r'
	case 'u':
		return 'u'
	}
	return 0
}

type jsonToken struct {
	typ    jsonTokenType
	index  int
	str    string
	num    float64
	boolv  bool
	errmsg string
}

type jsonParser struct {
	L     *lua.LState
	cfg   *jsonConfig
	data  string
	ptr   int
	depth int
	tmp   []byte
	// slots counts the Lua stack slots the C decoder would be using; it
	// fails like lua_checkstack beyond LUAI_MAXCSTACK.
	slots int
}

// at returns the byte at i, or 0 past the end (the C string terminator).
func (p *jsonParser) at(i int) byte {
	if i < len(p.data) {
		return p.data[i]
	}
	return 0
}

func (p *jsonParser) setTokenError(tok *jsonToken, msg string) {
	tok.typ = tError
	tok.index = p.ptr
	tok.errmsg = msg
}

func decodeHex4(p *jsonParser, i int) int {
	v := 0
	for j := 0; j < 4; j++ {
		d := hexVal(p.at(i + j))
		if d < 0 {
			return -1
		}
		v = v<<4 | d
	}
	return v
}

func appendUTF8(b []byte, cp int) []byte {
	switch {
	case cp <= 0x7f:
		return append(b, byte(cp))
	case cp <= 0x7ff:
		return append(b, byte(cp>>6)|0xc0, byte(cp&0x3f)|0x80)
	case cp <= 0xffff:
		return append(b, byte(cp>>12)|0xe0, byte((cp>>6)&0x3f)|0x80, byte(cp&0x3f)|0x80)
	}
	return append(b, byte(cp>>18)|0xf0, byte((cp>>12)&0x3f)|0x80, byte((cp>>6)&0x3f)|0x80, byte(cp&0x3f)|0x80)
}

func (p *jsonParser) appendUnicodeEscape() bool {
	escLen := 6
	cp := decodeHex4(p, p.ptr+2)
	if cp < 0 {
		return false
	}
	if cp&0xf800 == 0xd800 {
		if cp&0x400 != 0 {
			return false
		}
		if p.at(p.ptr+escLen) != '\\' || p.at(p.ptr+escLen+1) != 'u' {
			return false
		}
		low := decodeHex4(p, p.ptr+2+escLen)
		if low < 0 || low&0xfc00 != 0xdc00 {
			return false
		}
		cp = ((cp&0x3ff)<<10 | (low & 0x3ff)) + 0x10000
		escLen = 12
	}
	p.tmp = appendUTF8(p.tmp, cp)
	p.ptr += escLen
	return true
}

func (p *jsonParser) nextStringToken(tok *jsonToken) {
	p.ptr++ // skip "
	p.tmp = p.tmp[:0]
	for {
		ch := p.at(p.ptr)
		if ch == '"' {
			break
		}
		if ch == 0 {
			p.setTokenError(tok, "unexpected end of string")
			return
		}
		if ch == '\\' {
			ch = jsonEscape2Char(p.at(p.ptr + 1))
			if ch == 'u' {
				if p.appendUnicodeEscape() {
					continue
				}
				p.setTokenError(tok, "invalid unicode escape code")
				return
			}
			if ch == 0 {
				p.setTokenError(tok, "invalid escape code")
				return
			}
			p.ptr++
		}
		p.tmp = append(p.tmp, ch)
		p.ptr++
	}
	p.ptr++ // eat final quote
	tok.typ = tString
	tok.str = string(p.tmp)
}

// isInvalidNumber mimics json_is_invalid_number: forms strtod accepts but
// strict JSON does not.
func (p *jsonParser) isInvalidNumber() bool {
	i := p.ptr
	if p.at(i) == '+' {
		return true
	}
	if p.at(i) == '-' {
		i++
	}
	if p.at(i) == '0' {
		ch2 := p.at(i + 1)
		return ch2|0x20 == 'x' || (ch2 >= '0' && ch2 <= '9')
	} else if p.at(i) <= '9' {
		return false
	}
	rest := strings.ToLower(p.data[min(i, len(p.data)):min(i+3, len(p.data))])
	return rest == "inf" || rest == "nan"
}

func (p *jsonParser) cString(i int) string {
	s := p.data[min(i, len(p.data)):]
	if j := strings.IndexByte(s, 0); j >= 0 {
		s = s[:j]
	}
	return s
}

func (p *jsonParser) nextNumberToken(tok *jsonToken) {
	tok.typ = tNumber
	f, n := strtod(p.cString(p.ptr))
	if n == 0 {
		p.setTokenError(tok, "invalid number")
		return
	}
	tok.num = f
	p.ptr += n
}

func (p *jsonParser) hasPrefix(s string) bool {
	return strings.HasPrefix(p.data[min(p.ptr, len(p.data)):], s)
}

func (p *jsonParser) nextToken(tok *jsonToken) {
	var ch byte
	for {
		ch = p.at(p.ptr)
		tok.typ = jsonCh2Token(ch)
		if tok.typ != tWhitespace {
			break
		}
		p.ptr++
	}
	tok.index = p.ptr
	switch tok.typ {
	case tError:
		p.setTokenError(tok, "invalid token")
		return
	case tEnd:
		return
	case tUnknown:
	default:
		p.ptr++
		return
	}
	switch {
	case ch == '"':
		p.nextStringToken(tok)
		return
	case ch == '-' || (ch >= '0' && ch <= '9'):
		if p.cfg.decodeInvalidNumbers == 0 && p.isInvalidNumber() {
			p.setTokenError(tok, "invalid number")
			return
		}
		p.nextNumberToken(tok)
		return
	case p.hasPrefix("true"):
		tok.typ = tBoolean
		tok.boolv = true
		p.ptr += 4
		return
	case p.hasPrefix("false"):
		tok.typ = tBoolean
		tok.boolv = false
		p.ptr += 5
		return
	case p.hasPrefix("null"):
		tok.typ = tNull
		p.ptr += 4
		return
	case p.cfg.decodeInvalidNumbers != 0 && p.isInvalidNumber():
		p.nextNumberToken(tok)
		return
	}
	p.setTokenError(tok, "invalid token")
}

func (p *jsonParser) throwParseError(exp string, tok *jsonToken) {
	found := tok.errmsg
	if tok.typ != tError {
		found = jsonTokenNames[tok.typ]
	}
	raise(p.L, "Expected %s but found %s at character %d", exp, found, tok.index+1)
}

func (p *jsonParser) descend(need int) {
	p.depth++
	if p.depth > p.cfg.decodeMaxDepth || p.slots+need > luaMaxCStack {
		raise(p.L, "Found too many nested data structures (%d) at character %d", p.depth, p.ptr)
	}
}

func (p *jsonParser) parseObject() lua.LValue {
	p.descend(3)
	t := p.L.NewTable()
	p.slots++
	var tok jsonToken
	p.nextToken(&tok)
	if tok.typ == tObjEnd {
		p.depth--
		p.slots--
		return t
	}
	for {
		if tok.typ != tString {
			p.throwParseError("object key string", &tok)
		}
		key := lua.LString(tok.str)
		p.nextToken(&tok)
		if tok.typ != tColon {
			p.throwParseError("colon", &tok)
		}
		p.nextToken(&tok)
		p.slots++
		t.RawSetString(string(key), p.processValue(&tok))
		p.slots--
		p.nextToken(&tok)
		if tok.typ == tObjEnd {
			p.depth--
			p.slots--
			return t
		}
		if tok.typ != tComma {
			p.throwParseError("comma or object end", &tok)
		}
		p.nextToken(&tok)
	}
}

func (p *jsonParser) parseArray() lua.LValue {
	p.descend(2)
	t := p.L.NewTable()
	p.slots++
	var tok jsonToken
	p.nextToken(&tok)
	if tok.typ == tArrEnd {
		p.depth--
		p.slots--
		return t
	}
	for i := 1; ; i++ {
		t.RawSetInt(i, p.processValue(&tok))
		p.nextToken(&tok)
		if tok.typ == tArrEnd {
			p.depth--
			p.slots--
			return t
		}
		if tok.typ != tComma {
			p.throwParseError("comma or array end", &tok)
		}
		p.nextToken(&tok)
	}
}

func (p *jsonParser) processValue(tok *jsonToken) lua.LValue {
	switch tok.typ {
	case tString:
		return lua.LString(tok.str)
	case tNumber:
		return lua.LNumber(tok.num)
	case tBoolean:
		return lua.LBool(tok.boolv)
	case tObjBegin:
		return p.parseObject()
	case tArrBegin:
		return p.parseArray()
	case tNull:
		return p.cfg.null
	}
	p.throwParseError("value", tok)
	return lua.LNil
}

func jsonDecode(L *lua.LState) int {
	cfg := jsonFetchConfig(L)
	if L.GetTop() != 1 {
		argError(L, 1, "expected 1 argument")
	}
	data := checkString(L, 1)
	if len(data) >= 2 && (data[0] == 0 || data[1] == 0) {
		raise(L, "JSON parser does not support UTF-16 or UTF-32")
	}
	p := &jsonParser{L: L, cfg: cfg, data: data, slots: 1}
	var tok jsonToken
	p.nextToken(&tok)
	v := p.processValue(&tok)
	p.nextToken(&tok)
	if tok.typ != tEnd {
		p.throwParseError("the end", &tok)
	}
	L.Push(v)
	return 1
}
