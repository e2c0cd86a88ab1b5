package acl

import (
	"fmt"
	"os"
	"strings"
	"time"
)

// LoadConfigUsers applies the "user" directives of the config file
// (each: name and rules). Like Redis, a duplicate user is an error and the
// default user is reset before its rules apply.
func (r *Registry) LoadConfigUsers(lines [][]string) error {
	seen := map[string]bool{}
	for _, l := range lines {
		if len(l) < 1 {
			return fmt.Errorf("user directive without a name")
		}
		name := l[0]
		if seen[name] {
			return fmt.Errorf("Duplicate user found. A user can only be defined once in config files")
		}
		seen[name] = true
		if hasSpaces(name) {
			return fmt.Errorf("Spaces not allowed in ACL usernames")
		}
		ops, bad := MergeSelectorArgs(l[1:])
		if bad >= 0 {
			return fmt.Errorf("Unmatched parenthesis in selector definition")
		}
		if name == "default" {
			ops = append([]string{"reset"}, ops...)
		}
		if err := r.SetUser(name, ops); err != nil {
			if re, ok := err.(*RuleError); ok {
				return fmt.Errorf("Error loading ACL rule '%s' for the user named '%s': %s", re.Op, name, re.Msg)
			}
			return err
		}
	}
	return nil
}

// LoadFile replaces every user with those of the ACL file at path. On
// error nothing changes and the error text is Redis's. It returns the
// users that were replaced (their clients must be disconnected); the
// default user object is kept and only its rules change.
func (r *Registry) LoadFile(path string) ([]*User, error) {
	data, err := os.ReadFile(path)
	if err != nil {
		return nil, fmt.Errorf("Error loading ACLs, opening file '%s': %s", path, errText(err))
	}
	users := map[string]*User{}
	var errs strings.Builder
	for i, line := range strings.Split(string(data), "\n") {
		num := i + 1
		line = strings.Trim(line, " \t\r\n")
		if line == "" {
			continue
		}
		argv := strings.Split(line, " ")
		if argv[0] != "user" || len(argv) < 2 {
			fmt.Fprintf(&errs, "%s:%d should start with user keyword followed by the username. ", path, num)
			continue
		}
		if hasSpaces(argv[1]) {
			fmt.Fprintf(&errs, "'%s:%d: username '%s' contains invalid characters. ", path, num, argv[1])
			continue
		}
		if users[argv[1]] != nil {
			fmt.Fprintf(&errs, "WARNING: Duplicate user '%s' found on line %d. ", argv[1], num)
			continue
		}
		u := &User{name: argv[1]}
		st := r.newState()
		users[argv[1]] = u
		ops, bad := MergeSelectorArgs(argv[2:])
		if bad >= 0 {
			fmt.Fprintf(&errs, "%s:%d: Unmatched parenthesis in selector definition.", path, num)
		}
		syntaxError := false
		for _, op := range ops {
			op = strings.Trim(op, "\t\r\n")
			if err := r.apply(st, op); err != nil {
				msg := err.Error()
				if re, ok := err.(*RuleError); ok {
					msg = re.Msg
				}
				// as Redis 7.0: an unknown command or category (ENOENT)
				// is shown with its operation, every time; of the other
				// errors only a line's first (it may cause the others)
				switch {
				case msg == msgUnknown:
					fmt.Fprintf(&errs, "%s:%d: Error in applying operation '%s': %s. ", path, num, op, msg)
				case !syntaxError:
					fmt.Fprintf(&errs, "%s:%d: %s. ", path, num, msg)
					syntaxError = true
				}
			}
		}
		u.st.Store(st)
	}
	if errs.Len() > 0 {
		errs.WriteString("WARNING: ACL errors detected, no change to the previously active ACL rules was performed")
		return nil, fmt.Errorf("%s", errs.String())
	}
	r.mu.Lock()
	defer r.mu.Unlock()
	if nd := users["default"]; nd != nil {
		r.def.st.Store(nd.st.Load())
	} else {
		r.def.st.Store(r.defaultState())
	}
	users["default"] = r.def
	var old []*User
	for n, u := range r.users {
		if n != "default" {
			old = append(old, u)
		}
	}
	r.users = users
	return old, nil
}

func errText(err error) string {
	if pe, ok := err.(*os.PathError); ok {
		s := pe.Err.Error()
		if s != "" {
			return strings.ToUpper(s[:1]) + s[1:]
		}
	}
	return err.Error()
}

// SaveFile writes every user to the ACL file at path, atomically.
func (r *Registry) SaveFile(path string) error {
	var b strings.Builder
	for _, u := range r.Users() {
		b.WriteString("user " + u.name + " " + r.Describe(u) + "\n")
	}
	tmp := fmt.Sprintf("%s.tmp-%d-%d", path, os.Getpid(), time.Now().UnixMilli())
	if err := os.WriteFile(tmp, []byte(b.String()), 0o644); err != nil {
		os.Remove(tmp)
		return fmt.Errorf("writing ACL file: %w", err)
	}
	if err := os.Rename(tmp, path); err != nil {
		os.Remove(tmp)
		return fmt.Errorf("renaming ACL file: %w", err)
	}
	return nil
}
