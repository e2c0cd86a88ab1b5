package server

import (
	"errors"
	"net"
)

// CONFIG SET errors of port and bind (Redis 7.0's texts).
var (
	errListenPort = errors.New("Unable to listen on this port. Check server logs.")
	errBind       = errors.New("Failed to bind to specified addresses.")
)

// watchListenConfig makes CONFIG SET port and bind move the plain
// listeners while Run serves, as Redis's changeListenPort and
// changeBindAddr: the new sockets are opened first; when one cannot be,
// the directive keeps its value and CONFIG SET fails with Redis's error,
// the old sockets still serving; else the old ones are closed and the new
// ones served. Port 0 closes them.
func (s *Server) watchListenConfig() {
	s.cfg.SetNormalizer("port", func(v string) (string, error) {
		if v == s.cfg.Get("port") {
			return v, nil
		}
		if err := s.relisten(s.cfg.Get("bind"), v); err != nil {
			s.log.Warn("Unable to listen on this port", "port", v, "err", err)
			return "", errListenPort
		}
		return v, nil
	})
	s.cfg.SetNormalizer("bind", func(v string) (string, error) {
		if v == s.cfg.Get("bind") {
			return v, nil
		}
		if err := s.relisten(v, s.cfg.Get("port")); err != nil {
			s.log.Warn("Failed to bind", "bind", v, "err", err)
			return "", errBind
		}
		return v, nil
	})
}

// relisten replaces the plain listeners with new ones on bind and port.
func (s *Server) relisten(bind, port string) error {
	var lns []net.Listener
	if port != "0" && bind != "" {
		var err error
		if lns, err = s.listenAll(bind, port); err != nil {
			return err
		}
	}
	s.lnMu.Lock()
	defer s.lnMu.Unlock()
	if !s.serving { // shutting down
		for _, ln := range lns {
			ln.Close()
		}
		return errors.New("server not serving")
	}
	for _, ln := range s.listeners {
		ln.Close()
	}
	s.listeners = lns
	for _, ln := range lns {
		s.wg.Add(1)
		go s.accept(ln, false)
	}
	return nil
}
