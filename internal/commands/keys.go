package commands

import "github.com/crescent-db/crescent/internal/command"

func (h *Handlers) registerKeys() {
	t := h.Table
	t.Handle("del", h.del)
	t.Handle("exists", h.exists)
}

func (h *Handlers) del(c *command.Ctx) {
	n := 0
	for _, k := range c.Args[1:] {
		if c.DB.Delete(k) {
			c.Modified(k)
			c.Event('g', "del", k)
			n++
		}
	}
	c.W.Int(int64(n))
}

func (h *Handlers) exists(c *command.Ctx) {
	n := 0
	for _, k := range c.Args[1:] {
		if c.DB.Exists(k) {
			n++
		}
	}
	c.W.Int(int64(n))
}
