package resp

// AppendRepr appends s to b quoted as Redis's sdscatrepr does: in double
// quotes, with \\ \" \n \r \t \a \b escaped, other bytes outside the
// printable ASCII range as \xHH. MONITOR, CONFIG REWRITE and the Lua
// debugger write strings this way.
func AppendRepr(b, s []byte) []byte {
	const hex = "0123456789abcdef"
	b = append(b, '"')
	for _, ch := range s {
		switch ch {
		case '\\', '"':
			b = append(b, '\\', ch)
		case '\n':
			b = append(b, '\\', 'n')
		case '\r':
			b = append(b, '\\', 'r')
		case '\t':
			b = append(b, '\\', 't')
		case 7:
			b = append(b, '\\', 'a')
		case 8:
			b = append(b, '\\', 'b')
		default:
			if ch >= 32 && ch < 127 {
				b = append(b, ch)
			} else {
				b = append(b, '\\', 'x', hex[ch>>4], hex[ch&15])
			}
		}
	}
	return append(b, '"')
}
