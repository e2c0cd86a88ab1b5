//go:build ignore

// Command gen captures Redis's command metadata (COMMAND INFO and COMMAND
// DOCS, in RESP3) from a running redis-server into redis70.json, the data
// from which Crescent's command table is declared. Usage:
//
//	go run ./internal/command/gen -addr 127.0.0.1:6399 > internal/command/redis70.json
package main

import (
	"bufio"
	"encoding/json"
	"flag"
	"fmt"
	"log"
	"net"
	"os"
	"sort"
	"strconv"
)

func read(r *bufio.Reader) any {
	line, err := r.ReadString('\n')
	if err != nil {
		log.Fatal(err)
	}
	line = line[:len(line)-2]
	switch line[0] {
	case '+':
		return "+" + line[1:]
	case '-':
		log.Fatalf("error reply: %s", line)
	case ':':
		n, _ := strconv.ParseInt(line[1:], 10, 64)
		return n
	case '$':
		n, _ := strconv.Atoi(line[1:])
		buf := make([]byte, n+2)
		if _, err := io_ReadFull(r, buf); err != nil {
			log.Fatal(err)
		}
		return "$" + string(buf[:n])
	case '_':
		return nil
	case '*', '%', '~':
		n, _ := strconv.Atoi(line[1:])
		if line[0] == '%' {
			n *= 2
		}
		out := []any{string(line[0])}
		for i := 0; i < n; i++ {
			out = append(out, read(r))
		}
		return out
	}
	log.Fatalf("unexpected %q", line)
	return nil
}

func io_ReadFull(r *bufio.Reader, b []byte) (int, error) {
	n := 0
	for n < len(b) {
		m, err := r.Read(b[n:])
		n += m
		if err != nil {
			return n, err
		}
	}
	return n, nil
}

func main() {
	addr := flag.String("addr", "127.0.0.1:6379", "redis-server address")
	flag.Parse()
	c, err := net.Dial("tcp", *addr)
	if err != nil {
		log.Fatal(err)
	}
	r := bufio.NewReader(c)
	fmt.Fprint(c, "HELLO 3\r\n")
	read(r)
	fmt.Fprint(c, "COMMAND INFO\r\n")
	infos := read(r).([]any)[1:]
	fmt.Fprint(c, "COMMAND DOCS\r\n")
	docs := read(r).([]any)[1:]
	docMap := map[string]any{}
	for i := 0; i+1 < len(docs); i += 2 {
		docMap[docs[i].(string)[1:]] = docs[i+1]
	}
	type entry struct {
		Name string `json:"name"`
		Info any    `json:"info"`
		Docs any    `json:"docs"`
	}
	var out []entry
	for _, inf := range infos {
		arr := inf.([]any)
		name := arr[1].(string)[1:]
		out = append(out, entry{name, inf, docMap[name]})
	}
	sort.Slice(out, func(i, j int) bool { return out[i].Name < out[j].Name })

	fmt.Println("[")
	for i, e := range out {
		b, _ := json.Marshal(e)
		os.Stdout.Write(b)
		if i+1 < len(out) {
			fmt.Println(",")
		}
	}
	fmt.Println("\n]")

}
