// Package fake has in-memory stand-ins for the kernel parts the proxy drives, for tests
// that check behaviour rather than rule text:
//
//   - Tables parses iptables-restore input into tables, chains and rules, keeps them
//     across restores with --noflush semantics (it is a proxy.Runner), prints them as
//     iptables-save does, and traces packets through them: which destinations a new
//     connection can be DNATed to and with what probability (following every statistic
//     branch), whether it is masqueraded, rejected or dropped. Connect does the same for
//     one connection at a time, with the statistic match's counters, to see round robin.
//     An option the fake does not know makes Restore fail, so a rule the fake cannot
//     judge never passes a test by being ignored.
//   - IPVS is an IPVS table in memory (a proxy.IPVS) that counts its changes.
package fake
