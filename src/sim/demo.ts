/**
 * The scenario `netarp demo` runs: one LAN, a router to a second segment, and a short story
 * through the behaviours of if_ether.c a newcomer should see first. It is kept as YAML text
 * so that `netarp demo --scenario` can print it as a starting point for one's own scenario.
 */
import { parseScenario, type Scenario } from './scenario.ts';

/** The demo scenario, in the scenario file format of docs/sim.md. */
export const DEMO_SCENARIO = `# netarp demo: four hosts on a LAN, a router to a DMZ, and two stations that only
# inject frames. alice keeps entries for 30 seconds (max_age) and prunes every 10, so
# that the expiry at the end happens within a minute of virtual time.
seed: 1
segments:
  - name: lan
  - name: dmz
hosts:
  - name: alice
    sysctl: { max_age: 30, prune_intvl: 10 }
    interfaces:
      - { name: eth0, mac: "02:00:00:00:00:01", segment: lan, addresses: [192.0.2.1/24] }
    routes:
      # alice believes the DMZ is on her wire: the router's proxy ARP makes it so.
      - { to: 198.51.100.0/24, interface: eth0 }
  - name: bob
    interfaces:
      - { name: eth0, mac: "02:00:00:00:00:02", segment: lan, addresses: [192.0.2.2/24] }
  - name: carol
    interfaces:
      - { name: eth0, mac: "02:00:00:00:00:03", segment: lan, addresses: [192.0.2.3/24] }
  - name: router
    sysctl: { proxyall: 1 }
    interfaces:
      - { name: eth0, mac: "02:00:00:00:00:fe", segment: lan, addresses: [192.0.2.254/24] }
      - { name: eth1, mac: "02:00:00:00:01:fe", segment: dmz, addresses: [198.51.100.254/24] }
  - name: dave
    interfaces:
      - { name: eth0, mac: "02:00:00:00:01:04", segment: dmz, addresses: [198.51.100.4/24] }
stations:
  - { name: mallory, segment: lan, mac: "02:00:00:00:00:66" }
  - { name: newcard, segment: lan, mac: "02:00:00:00:00:22" }
timeline:
  - at: 0
    note: "above, at boot: each host announced its addresses (gratuitous ARP). Columns: time, host or segment, what happened"
  - at: 1
    note: "resolution with a held packet: alice pings bob, both caches cold"
  - at: 1
    ping: { from: alice, to: 192.0.2.2 }

  - at: 3
    note: "proxy ARP: the router answers for the DMZ (proxyall), so alice's echo goes to the router"
  - at: 3
    ping: { from: alice, to: 198.51.100.4 }
  - at: 4
    note: "proxy ARP: a published entry (arp -s ... pub) is announced, then answered for"
  - at: 4
    arp: { host: router, command: "-s 192.0.2.99 02:00:00:00:00:99 pub" }
  - at: 5
    ping: { from: bob, to: 192.0.2.99 }

  - at: 7
    note: "a conflict: mallory claims carol's address; carol logs it and defends with a reply"
  - at: 7
    inject: { from: mallory, frame: { op: request, spa: 192.0.2.3, tpa: 192.0.2.3 } }

  - at: 9
    note: "a MAC move: bob's address answers alice from a new card"
  - at: 9
    inject:
      from: newcard
      frame: { op: reply, spa: 192.0.2.2, tpa: 192.0.2.1, tha: "02:00:00:00:00:01" }

  - at: 11
    note: "a host that never answers: maxtries (5) requests, then down for host_down_time (20 s)"
  - at: 11
    ping: { from: alice, to: 192.0.2.77, count: 7, interval: 1 }

  - at: 20
    note: "expiry: alice's table now; her entries expire after max_age and the prune pass at 41 s frees them"
  - at: 20
    show: { host: alice }
end: 45
`;

/** The demo scenario, checked. */
export function demoScenario(): Scenario {
  return parseScenario(DEMO_SCENARIO, 'demo');
}
