/**
 * ARP input: arpintr, in_arpinput and arp_update_oncpu of if_ether.c, in the seed's order.
 * Every early return counts why in `stats`; the seed's log lines are reported with its text.
 *
 * RFC 826, "Packet Reception": check the hardware and protocol types, merge the sender into
 * an existing entry, add it if we are the target, and answer requests for our addresses.
 */
import {
  IPV4_ANY,
  IPV4_BROADCAST,
  type Ipv4,
  isGroupMac,
  isMulticastIpv4,
  MAC_BROADCAST,
  type Mac,
  readIpv4,
  readMac,
} from '../wire/addr.ts';
import {
  ARP_ETHER_IPV4_LEN,
  ARP_FIXED_HEADER_LEN,
  ARP_PROTOCOL_IPV4,
  ArpHardware,
  ArpOp,
  arpPacketLength,
} from '../wire/arp.ts';
import { ETHERNET_HEADER_LEN, EtherType } from '../wire/ethernet.ts';
import { type Entry, NO_MAC, PERMANENT } from './entry.ts';
import { covers, type Interface } from './iface.ts';
import type { EngineState } from './state.ts';

/** The Ethernet address length of every interface netarp drives (if_addrlen). */
const IF_ADDR_LEN = 6;

/**
 * A received Ethernet frame (ether_input's part: length, EtherType, destination filter),
 * then ARP input. Frames arriving on a CARP parent are also handed to a master CARP child
 * whose address they target: the copy the seed's CARP interface receives.
 */
export function etherInput(state: EngineState, iface: Interface, frame: Uint8Array): void {
  const { stats } = state;
  if (frame.length < ETHERNET_HEADER_LEN) {
    stats.rxRuntEthernet++;
    return;
  }
  if (((frame[12]! << 8) | frame[13]!) !== EtherType.Arp) {
    stats.rxNotArp++;
    return;
  }
  const destination = readMac(frame, 0);
  if (!isGroupMac(destination) && !acceptsUnicast(state, iface, destination)) {
    stats.rxNotForUs++;
    return;
  }
  // ether_demux, not if_ether.c: "Discard packet if ARP is disabled on interface".
  if (iface.noarp) {
    stats.rxNoArp++;
    return;
  }
  if (iface.carpChildren.length > 0) deliverToCarpChild(state, iface, frame, destination);
  arpIntr(state, iface, frame, ETHERNET_HEADER_LEN);
}

/** Whether `iface` receives unicast to `destination`: its MAC, its bridge's, a CARP child's. */
function acceptsUnicast(state: EngineState, iface: Interface, destination: Mac): boolean {
  if (destination === iface.mac) return true;
  const bridge = state.interfaces.bridgeOf(iface);
  if (bridge && destination === bridge.mac) return true;
  for (const child of iface.carpChildren) {
    if (state.interfaces.get(child)?.mac === destination) return true;
  }
  return false;
}

/**
 * carp_input's share of a frame on a CARP parent: a master CARP interface receives the ARP
 * frames that target one of its addresses (the seed then drops the parent's own copy, l.896).
 */
function deliverToCarpChild(
  state: EngineState,
  parent: Interface,
  frame: Uint8Array,
  destination: Mac,
): void {
  const offset = ETHERNET_HEADER_LEN;
  if (
    frame.length < offset + ARP_ETHER_IPV4_LEN ||
    frame[offset + 4] !== 6 ||
    frame[offset + 5] !== 4
  ) {
    return;
  }
  const targetIp = readIpv4(frame, offset + 24);
  for (const childIndex of parent.carpChildren) {
    const child = state.interfaces.get(childIndex);
    if (!child?.up || child.carpState !== 'master') continue;
    if (isGroupMac(destination) || destination === child.mac) {
      if (child.addresses.some((a) => a.address === targetIp)) {
        arpIntr(state, child, frame, offset);
        return;
      }
    }
  }
}

/** arpintr: the checks common to every protocol, then the IPv4 handler. */
function arpIntr(state: EngineState, ifp: Interface, bytes: Uint8Array, offset: number): void {
  const { stats } = state;
  stats.received++;
  const length = bytes.length - offset;
  if (length < ARP_FIXED_HEADER_LEN) {
    state.log('err', 'runtPullupFailed');
    stats.rxRuntHeader++;
    return;
  }
  const hardwareType = (bytes[offset]! << 8) | bytes[offset + 1]!;
  if (hardwareType !== ArpHardware.Ethernet && hardwareType !== ArpHardware.Ieee802) {
    state.log('err', 'unknownHardware', hardwareType);
    stats.rxUnknownHardware++;
    return;
  }
  const hardwareLen = bytes[offset + 4]!;
  const protocolLen = bytes[offset + 5]!;
  if (length < arpPacketLength(hardwareLen, protocolLen)) {
    state.log('err', 'runt');
    stats.rxRuntAddresses++;
    return;
  }
  if (((bytes[offset + 2]! << 8) | bytes[offset + 3]!) !== ARP_PROTOCOL_IPV4) {
    stats.rxNotIpv4++; // the seed frees it without a word (l.616)
    return;
  }
  inArpInput(state, ifp, bytes, offset, hardwareType, hardwareLen, protocolLen);
}

/** in_arpinput: find which of our addresses the frame concerns, learn, then reply. */
function inArpInput(
  state: EngineState,
  receivedOn: Interface,
  bytes: Uint8Array,
  offset: number,
  hardwareType: number,
  hardwareLen: number,
  protocolLen: number,
): void {
  const { stats, interfaces, config } = state;
  if (bytes.length - offset < ARP_ETHER_IPV4_LEN) {
    state.log('err', 'inArpRunt');
    stats.rxRuntInet++;
    return;
  }
  // Differs from if_ether.c: the seed reads four bytes of ar_spa/ar_tpa whatever ar_pln says,
  // reading the wrong bytes (or past the packet) when it is not 4. Such frames are dropped.
  if (protocolLen !== 4) {
    stats.rxBadProtocolLength++;
    return;
  }
  const operation = (bytes[offset + 6]! << 8) | bytes[offset + 7]!;
  if (operation === ArpOp.Request) stats.rxrequests++;
  else if (operation === ArpOp.Reply) stats.rxreplies++;
  const shaOffset = offset + ARP_FIXED_HEADER_LEN;
  const senderIp = readIpv4(bytes, shaOffset + hardwareLen);
  let targetIp = readIpv4(bytes, shaOffset + 2 * hardwareLen + 4);

  // Which of our addresses (myaddr) and which interface (ifp) the frame is about.
  let ifp = receivedOn;
  let myAddress: Ipv4 | undefined;

  // (0) The target against CARP addresses: only a master answers (carp_iamatch).
  for (const ia of interfaces.ownersOf(targetIp)) {
    if (ia.kind !== 'carp') continue;
    const isParent = ia.carpParent === receivedOn.index;
    if ((isParent || ia === receivedOn) && ia.up && ia.carpState === 'master') {
      if (isParent) {
        // The CARP interface answers; this is the copy the parent also received.
        stats.rxCarpParentCopy++;
        return;
      }
      myAddress = targetIp;
      break;
    }
  }
  // (1) The target, then (2) the sender, against our addresses on this interface or bridge.
  if (myAddress === undefined) {
    const target = matchLocal(state, receivedOn, targetIp, true);
    if (target) {
      ifp = target;
      myAddress = targetIp;
    }
  }
  if (myAddress === undefined) {
    const sender = matchLocal(state, receivedOn, senderIp, false);
    if (sender) {
      ifp = sender;
      myAddress = senderIp;
    }
  }
  // No match: the receiving interface's first address stands in for the rest.
  if (myAddress === undefined) {
    const first = receivedOn.addresses[0];
    if (!first) {
      stats.rxNoAddress++;
      return;
    }
    myAddress = first.address;
  }

  const ownMac = ifp.mac; // enaddr
  const senderMac = readMac(bytes, shaOffset); // the seed compares if_addrlen bytes of ar_sha
  const senderHardware = bytes.subarray(shaOffset, shaOffset + hardwareLen);
  if (senderMac === ownMac) {
    stats.rxFromMe++; // it's from me, ignore it
    return;
  }
  if (senderMac === MAC_BROADCAST) {
    state.log('err', 'broadcastSender', senderIp);
    stats.rxBroadcastSender++;
    return;
  }
  // Differs from if_ether.c: the seed refuses only a broadcast sender. RFC 1812 section
  // 3.3.2: a router "MUST not believe any ARP reply that claims that the Link Layer address of
  // another host or router is a broadcast or multicast address"; nor does netarp a request.
  if (isGroupMac(senderMac)) {
    stats.rxMulticastSender++;
    return;
  }
  // Differs from if_ether.c: no host sends from the limited broadcast address or a multicast
  // group (RFC 1122 section 3.2.1.3), so no entry is made for one and no reply sent to it.
  if (senderIp === IPV4_BROADCAST || isMulticastIpv4(senderIp)) {
    stats.rxBadSenderIp++;
    return;
  }
  // RFC 5227 section 2.1.1: an ARP Probe carries sender IP 0 "to avoid polluting ARP caches";
  // it is answered like any request for our address, and never learned.
  const probe = senderIp === IPV4_ANY;
  if (probe) {
    stats.rxProbes++;
  } else if (
    config.arpwatch &&
    hardwareLen === IF_ADDR_LEN &&
    interfaces.ownersOf(senderIp).length === 0
  ) {
    state.watchStation(receivedOn, senderIp, senderMac);
  }
  const gratuitous = senderIp === targetIp;
  let learn = !probe;
  if (senderIp === myAddress && myAddress !== IPV4_ANY) {
    state.log('err', 'usingMyIp', bytes.subarray(shaOffset, shaOffset + IF_ADDR_LEN), senderIp);
    stats.dupips++;
    targetIp = myAddress; // defend: answer as if asked for it
    learn = false;
  } else if (ifp.staticarp) {
    learn = false; // IFF_STATICARP: never learn, still reply
  } else if (config.restricted_match && targetIp !== myAddress) {
    stats.rxRestricted++;
    return;
  }
  if (learn) {
    // arp_update_oncpu works from m_pkthdr.rcvif, the port that heard the frame, not the
    // bridge step (1) may have switched `ifp` to (l.676), so that its wrong-interface check
    // and log name the receiving port.
    const targetedUs = targetIp === myAddress;
    updateEntry(
      state,
      receivedOn,
      senderIp,
      senderMac,
      senderHardware,
      hardwareLen,
      targetedUs,
      targetedUs && operation === ArpOp.Reply,
      gratuitous,
    );
  }

  // reply:
  if (operation !== ArpOp.Request) return;
  let replyMac: Mac;
  if (targetIp === myAddress) {
    replyMac = ownMac; // I am the target
  } else {
    const published = state.table.published(targetIp);
    if (published && published.mac !== NO_MAC) {
      replyMac = published.mac;
    } else {
      if (!config.proxyall) {
        stats.rxNotOurs++;
        return;
      }
      const outIf = routeInterface(state, targetIp);
      // Don't proxy for nodes on the interface the request came in on, or we'd fight over
      // who claims what Ethernet address (l.1071).
      if (outIf === undefined || outIf === ifp.index) {
        stats.rxNotOurs++;
        return;
      }
      replyMac = ownMac;
    }
  }
  // Differs from if_ether.c: the seed copies ar_hln bytes of our 6-byte address into a reply
  // shaped like the request; netarp only answers requests whose hln is the interface's.
  if (hardwareLen !== IF_ADDR_LEN) {
    stats.rxUnanswerableLength++;
    return;
  }
  // The reply goes back to the requester's hardware address with the fields swapped.
  state.sendArp(ifp, senderMac, ArpOp.Reply, hardwareType, replyMac, targetIp, senderMac, senderIp);
  stats.txreplies++;
}

/**
 * Steps (1) and (2) of in_arpinput: whether `ip` is one of our (non-CARP, for the target)
 * addresses on the receiving interface, or on an interface sharing a bridge with it. Returns
 * the interface to continue with (the bridge, when the receiving port is a member), else undefined.
 */
function matchLocal(
  state: EngineState,
  receivedOn: Interface,
  ip: Ipv4,
  skipCarp: boolean,
): Interface | undefined {
  const { interfaces } = state;
  for (const owner of interfaces.ownersOf(ip)) {
    if (skipCarp && owner.kind === 'carp') continue;
    if (receivedOn.bridge >= 0 && owner.bridge === receivedOn.bridge) {
      return interfaces.get(receivedOn.bridge); // same bridge: answer as the bridge
    }
    if (owner.bridge >= 0 && owner.bridge === receivedOn.index) return receivedOn;
    if (receivedOn.bridge >= 0 && receivedOn.bridge === owner.index) return receivedOn;
    if (owner === receivedOn) return receivedOn;
  }
  return undefined;
}

/** The interface index a route to `ip` leaves by (rtpurelookup's rt_ifp), or undefined. */
function routeInterface(state: EngineState, ip: Ipv4): number | undefined {
  const route = state.routes.lookup(ip);
  if (!route) return undefined;
  if (route.kind !== 'gateway') return route.iface.index;
  const gateway = state.routes.lookup(route.gateway);
  return gateway && gateway.kind !== 'gateway' ? gateway.iface.index : undefined;
}

/**
 * arp_update_oncpu: merge the sender into its entry (RFC 826: "if the pair <protocol type,
 * sender protocol address> is already in my translation table, update the sender hardware
 * address"), creating the entry only when we were the target ("if I am the target ... add").
 * netarp's `accept` and `locktime` may refuse the update first.
 */
function updateEntry(
  state: EngineState,
  receivedOn: Interface,
  senderIp: Ipv4,
  senderMac: Mac,
  /** ar_sha, ar_hln bytes. */
  senderHardware: Uint8Array,
  hardwareLen: number,
  /** We are the target (RFC 826: "Am I the target?"). */
  targetedUs: boolean,
  /** A reply to us: the answer to our request, if one is outstanding. */
  replyToUs: boolean,
  /** Sender IP equals target IP: RFC 5227 section 3's ARP Announcement, or a reply alike. */
  gratuitous: boolean,
): void {
  const { stats, config, interfaces } = state;
  let entry = state.table.host(senderIp);
  if (!entry && !targetedUs) return;
  let learned: Entry | undefined; // created by this frame
  if (!accepted(state, receivedOn, senderIp, replyToUs, entry)) return;
  if (!entry) {
    const route = state.routes.lookup(senderIp);
    if (!route) return;
    if (route.kind === 'gateway') {
      state.log('debug', 'lookupFailed', senderIp, 'host is not on local network');
      return;
    }
    const sourceIp =
      route.kind === 'connected' ? route.address.address : (route.iface.addresses[0]?.address ?? 0);
    entry = state.learnEntry(senderIp, route.iface, sourceIp, 'learned');
    if (!entry) return; // nothing the network may evict is left (counted as tableFull)
    learned = entry;
  }
  let ifp = receivedOn;
  // Differs from if_ether.c: a CARP interface hears its requests through its parent, and the
  // parent usually holds an address in the same subnet, so the requester's entry lives on the
  // parent. The seed would call that the wrong interface on every request to the virtual
  // address and never learn the requester; netarp treats CARP and parent as one link here.
  if (ifp.kind === 'carp' && ifp.carpParent === entry.ifIndex) {
    ifp = interfaces.get(entry.ifIndex) ?? ifp;
  }
  if (entry.ifIndex !== ifp.index) {
    // Arriving on another interface is an error unless bridging relates the two (l.686).
    const entryIf = interfaces.get(entry.ifIndex);
    let moveTo: Interface | undefined;
    if (entryIf) {
      if (ifp.bridge >= 0 && entryIf.bridge === ifp.bridge) moveTo = interfaces.get(ifp.bridge);
      else if (entryIf.bridge >= 0 && entryIf.bridge === ifp.index) moveTo = ifp;
      else if (ifp.bridge >= 0 && ifp.bridge === entryIf.index) moveTo = entryIf;
    }
    const level = config.log_arp_wrong_iface;
    if ((level === 1 && !moveTo) || level === 2) {
      state.log(
        'err',
        'wrongInterface',
        senderIp,
        entryIf?.name ?? '?',
        senderHardware.subarray(0, IF_ADDR_LEN),
        ifp.name,
      );
    }
    if (!moveTo) {
      stats.rxWrongInterface++;
      if (learned) state.boundUnresolved(learned);
      return;
    }
    entry.ifIndex = moveTo.index;
    ifp = moveTo;
  }
  const sha6 =
    senderHardware.length >= IF_ADDR_LEN ? senderHardware.subarray(0, IF_ADDR_LEN) : senderHardware;
  let moved = false;
  if (entry.mac !== NO_MAC && senderMac !== entry.mac) {
    if (entry.expire !== PERMANENT) {
      // Linux's locktime (arp_process): "If several different ARP replies follows back-to-back,
      // use the FIRST one", a gratuitous ARP excepted so that an address can still move.
      if (config.locktime > 0 && !gratuitous && state.nowMs < entry.macSetAt + config.locktime) {
        stats.rxLocked++;
        return;
      }
      if (config.log_arp_movements) {
        state.log('info', 'moved', senderIp, entry.mac, sha6, ifp.name);
      }
      moved = true;
    } else {
      if (config.log_arp_permanent_modify) {
        state.log('err', 'permanentModify', sha6, senderIp, ifp.name);
      }
      stats.rxPermanentModify++;
      return;
    }
  }
  // Sanity checks of the address length (l.763 and l.769).
  if (entry.mac !== NO_MAC && hardwareLen !== IF_ADDR_LEN) {
    state.log('warning', 'newAddrLen', sha6, hardwareLen, IF_ADDR_LEN);
  }
  if (hardwareLen !== IF_ADDR_LEN) {
    state.log('warning', 'addrLenIgnored', sha6, hardwareLen, IF_ADDR_LEN);
    stats.rxAddressLength++;
    if (learned) state.boundUnresolved(learned);
    return;
  }
  const wasUnresolved = entry.mac === NO_MAC;
  if (wasUnresolved || moved) entry.macSetAt = state.nowMs;
  entry.mac = senderMac;
  if (entry.expire !== PERMANENT) entry.expire = state.nowSec + config.max_age;
  entry.reject = false;
  entry.asked = 0;
  entry.preempt = config.maxtries;
  entry.requestOutstanding = false;
  state.table.touch(entry, state.nowSec);
  if (moved) state.report('change', entry, 'moved');
  else if (wasUnresolved) state.report('resolve', entry, 'learned');
  if (entry.held) state.deliverHeld(entry);
  else if (wasUnresolved) state.relist(entry);
}

/**
 * netarp's `accept` policy, for a frame that would create or update `entry`. The answer to a
 * request we have outstanding is always taken. Anything else is unsolicited: taken with
 * `accept` 0 (RFC 826 and the seed), never with 1, and with 2 only from a sender inside a
 * subnet of the receiving interface (or of its bridge), where Linux's arp_accept 2 draws the
 * line for gratuitous ARP.
 */
function accepted(
  state: EngineState,
  receivedOn: Interface,
  senderIp: Ipv4,
  replyToUs: boolean,
  entry: Entry | undefined,
): boolean {
  const { config, stats } = state;
  if (config.accept === 0) return true;
  if (replyToUs && entry?.requestOutstanding) return true;
  if (config.accept === 1) {
    stats.rxUnsolicited++;
    return false;
  }
  const onLink = (iface: Interface | undefined): boolean =>
    iface?.addresses.some((a) => covers(a, senderIp)) ?? false;
  if (onLink(receivedOn) || onLink(state.interfaces.bridgeOf(receivedOn))) return true;
  stats.rxOffSubnet++;
  return false;
}
