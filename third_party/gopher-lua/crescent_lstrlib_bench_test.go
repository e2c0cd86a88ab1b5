package lua

import "testing"

// Pattern functions on typical patterns (the shapes scripts use: a key
// split, a field parse, a trim, a separator replace, a word loop), each
// chunk run b.N times on one state with a context. CRESCENT

func BenchmarkStrFind(b *testing.B) {
	benchVM(b, `local s = "user:1234:session" local a, e = string.find(s, ":(%d+):") return e`)
}

func BenchmarkStrFindPlain(b *testing.B) {
	benchVM(b, `local s = "user:1234:session" return (string.find(s, "session", 1, true))`)
}

func BenchmarkStrMatch(b *testing.B) {
	benchVM(b, `local k, v = string.match("  limit = 100  ", "^%s*(%w+)%s*=%s*(%d+)%s*$") return v`)
}

func BenchmarkStrGsub(b *testing.B) {
	benchVM(b, `local r, n = string.gsub("a,b,c,d,e,f,g,h", ",", ";") return n`)
}

func BenchmarkStrGsubCapture(b *testing.B) {
	benchVM(b, `local r, n = string.gsub("hello world from lua", "(%w+)", "<%1>") return n`)
}

func BenchmarkStrGmatch(b *testing.B) {
	benchVM(b, `local n = 0 for w in string.gmatch("one two three four five", "%a+") do n = n + #w end return n`)
}

// table.sort of 100 numbers, without and with a comparator (ltablib.c's
// auxsort in crescent_sort.go). CRESCENT

func BenchmarkTableSort(b *testing.B) {
	benchVM(b, `local t = {} for i = 1, 100 do t[i] = (i * 7919) % 101 end table.sort(t) return t[1]`)
}

func BenchmarkTableSortFunc(b *testing.B) {
	benchVM(b, `local t = {} for i = 1, 100 do t[i] = (i * 7919) % 101 end table.sort(t, function(a, b) return a > b end) return t[1]`)
}
