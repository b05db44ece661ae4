/**
 * ARP input: arpintr, in_arpinput and arp_update_oncpu of if_ether.c, in the seed's order.
 * Every early return counts why in `stats`; the seed's log lines are reported with its text.
 *
 * RFC 826, "Packet Reception": check the hardware and protocol types, merge the sender into
 * an existing entry, add it if we are the target, and answer requests for our addresses.
 *
 * Two shortcuts, on an engine without bridges and CARP interfaces, give the seed's outcome
 * with fewer steps: `predictedInput` handles a known neighbour asking for or answering us in
 * one pass, and `commonArpInput` skips the checks a well-formed Ethernet/IPv4 ARP frame is
 * known to pass. Each takes only frames for which every check it skips passes, so what a
 * frame causes (outputs, counters, log lines, the table) is the same either way
 * (prediction.test.ts compares them with the checks taken one by one).
 */
import {
  IPV4_ANY,
  IPV4_BROADCAST,
  type Ipv4,
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
import { NO_MAC, PERMANENT } from './entry.ts';
import { covers, type Interface } from './iface.ts';
import type { EngineState } from './state.ts';
import { Flag, NIL } from './table.ts';

/** The Ethernet address length of every interface netarp drives (if_addrlen). */
const IF_ADDR_LEN = 6;

/**
 * A received Ethernet frame (ether_input's part: length, EtherType, destination filter),
 * then ARP input. Frames arriving on a CARP parent are also handed to a master CARP child
 * whose address they target: the copy the seed's CARP interface receives.
 */
export function etherInput(state: EngineState, iface: Interface, frame: Uint8Array): void {
  if (predictedInput(state, iface, frame)) return;
  if (state.interfaces.plain && isCommonFrame(iface, frame)) {
    commonArpInput(state, iface, frame);
    return;
  }
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
  // The I/G bit of the first octet: a group (multicast or broadcast) destination.
  if ((frame[0]! & 1) === 0 && !acceptsUnicast(state, iface, destination)) {
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

/**
 * Header prediction (as BSD's tcp_input predicts the next segment of a connection): the frame
 * nearly every ARP packet a host receives is, a neighbour we know asking for our address or
 * answering us, handled in one pass. It is taken when, on an engine without bridges and CARP
 * interfaces (`InterfaceTable.plain`), the frame is an Ethernet/IPv4 ARP request or reply (at
 * least 42 bytes; hardware Ethernet or IEEE 802, hln 6, pln 4) to a group address or the
 * receiving interface's MAC, on an interface that does ARP and learns (neither NOARP nor
 * STATICARP); it targets one of that interface's addresses; its sender is neither us nor a
 * group address, with an IPv4 address that is not 0, broadcast, multicast or the target; the
 * sender's entry exists, on this interface, with this MAC; and `accept` is 0 and arpwatch off.
 * Every check of ether_input, arpintr and in_arpinput then passes without a log line, and
 * arp_update_oncpu refreshes the entry: this does what they would do (count the frame, refresh
 * the entry, answer a request) without the checks. For any other frame it returns false,
 * having changed nothing, and the frame takes the checks one by one in the seed's order.
 */
function predictedInput(state: EngineState, receivedOn: Interface, bytes: Uint8Array): boolean {
  // Offsets and values as literals: the frame is 14 bytes of Ethernet header, then the ARP
  // packet (hrd 14, pro 16, hln 18, pln 19, op 20, sha 22, spa 28, tha 32, tpa 38).
  if (
    bytes.length < 42 ||
    bytes[12] !== 0x08 || // EtherType 0x0806, ARP
    bytes[13] !== 0x06 ||
    bytes[14] !== 0 || // ar_hrd 1 (Ethernet) or 6 (IEEE 802)
    (bytes[15] !== 1 && bytes[15] !== 6) ||
    bytes[16] !== 0x08 || // ar_pro 0x0800, IPv4
    bytes[17] !== 0 ||
    bytes[18] !== 6 || // ar_hln
    bytes[19] !== 4 || // ar_pln
    bytes[20] !== 0 || // ar_op 1 (request) or 2 (reply)
    (bytes[21] !== 1 && bytes[21] !== 2) ||
    (bytes[22]! & 1) !== 0 || // a group sender hardware address
    !state.interfaces.plain ||
    receivedOn.noarp ||
    receivedOn.staticarp
  ) {
    return false;
  }
  const ownMac = receivedOn.mac;
  if ((bytes[0]! & 1) === 0 && readMac(bytes, 0) !== ownMac) return false; // not for us
  const senderMac = readMac(bytes, 22);
  if (senderMac === ownMac) return false;
  const senderIp = ((bytes[28]! << 24) | (bytes[29]! << 16) | (bytes[30]! << 8) | bytes[31]!) >>> 0;
  const targetIp = ((bytes[38]! << 24) | (bytes[39]! << 16) | (bytes[40]! << 8) | bytes[41]!) >>> 0;
  // Sender 0.0.0.0 (a probe), 224.0.0.0 and above (multicast, reserved, broadcast), or ours.
  if (senderIp === 0 || senderIp >= 0xe000_0000 || senderIp === targetIp) return false;
  const { config, table } = state;
  if (config.accept !== 0 || config.arpwatch !== 0 || !hasAddress(receivedOn, targetIp)) {
    return false;
  }
  const slot = table.host(senderIp);
  if (slot === NIL || table.ifIndex[slot] !== receivedOn.index || table.mac[slot] !== senderMac) {
    return false;
  }
  const { stats } = state;
  stats.received++;
  const request = bytes[21] === 1;
  if (request) stats.rxrequests++;
  else stats.rxreplies++;
  refreshEntry(state, slot);
  if (request) {
    state.sendReply(receivedOn, bytes, 22, bytes[15]!, NIL, targetIp, senderIp);
    stats.txreplies++;
  }
  return true;
}

/**
 * Whether `frame` is the common case, which passes every check of ether_input, arpintr and
 * in_arpinput's first part on `iface`: at least an Ethernet/IPv4 ARP packet long, EtherType
 * ARP, to a group address or to the interface's own MAC, ARP enabled, hardware Ethernet or
 * IEEE 802, protocol IPv4, hln 6 and pln 4. Reads only; on an engine without bridges and CARP
 * interfaces (`InterfaceTable.plain`) such a frame can skip those checks and the bridge and
 * CARP steps (`commonArpInput`), and any other frame takes them one by one in the seed's order.
 */
function isCommonFrame(iface: Interface, frame: Uint8Array): boolean {
  return (
    frame.length >= ETHERNET_HEADER_LEN + ARP_ETHER_IPV4_LEN &&
    frame[12] === EtherType.Arp >>> 8 &&
    frame[13] === (EtherType.Arp & 0xff) &&
    frame[16] === ARP_PROTOCOL_IPV4 >>> 8 &&
    frame[17] === (ARP_PROTOCOL_IPV4 & 0xff) &&
    frame[18] === IF_ADDR_LEN &&
    frame[19] === 4 &&
    frame[14] === 0 &&
    (frame[15] === ArpHardware.Ethernet || frame[15] === ArpHardware.Ieee802) &&
    ((frame[0]! & 1) !== 0 || readMac(frame, 0) === iface.mac) &&
    !iface.noarp
  );
}

/**
 * ARP input for a frame `isCommonFrame` accepted, on a plain engine: what `arpIntr` and
 * `inArpInput` do for it, without the checks it is known to pass. With no bridge and no CARP
 * interface, steps (0) to (2) of in_arpinput reduce to whether the receiving interface has
 * the target address, else the sender's.
 */
function commonArpInput(state: EngineState, receivedOn: Interface, bytes: Uint8Array): void {
  const { stats } = state;
  stats.received++;
  const operation = (bytes[20]! << 8) | bytes[21]!;
  if (operation === ArpOp.Request) stats.rxrequests++;
  else if (operation === ArpOp.Reply) stats.rxreplies++;
  const senderIp = readIpv4(bytes, ETHERNET_HEADER_LEN + 14);
  const targetIp = readIpv4(bytes, ETHERNET_HEADER_LEN + 24);
  let myAddress: Ipv4;
  if (hasAddress(receivedOn, targetIp)) {
    myAddress = targetIp;
  } else if (hasAddress(receivedOn, senderIp)) {
    myAddress = senderIp;
  } else {
    const first = receivedOn.addresses[0];
    if (first === undefined) {
      stats.rxNoAddress++;
      return;
    }
    myAddress = first.address;
  }
  arpInputFrom(
    state,
    receivedOn,
    receivedOn,
    myAddress,
    bytes,
    ETHERNET_HEADER_LEN,
    bytes[15]!,
    IF_ADDR_LEN,
    operation,
    senderIp,
    targetIp,
  );
}

/** Whether `ip` is one of `iface`'s addresses. */
function hasAddress(iface: Interface, ip: Ipv4): boolean {
  const addresses = iface.addresses;
  for (let i = 0; i < addresses.length; i++) if (addresses[i]!.address === ip) return true;
  return false;
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
    if ((frame[0]! & 1) !== 0 || destination === child.mac) {
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
  const { stats, interfaces } = state;
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
  const targetIp = readIpv4(bytes, shaOffset + 2 * hardwareLen + 4);

  // Which of our addresses (myaddr) and which interface (ifp) the frame is about.
  let ifp = receivedOn;
  let myAddress: Ipv4 | undefined;

  // (0) The target against CARP addresses: only a master answers (carp_iamatch).
  const targetOwners = interfaces.ownersOf(targetIp);
  // Indexed loops on this path: for-of goes through the iterator protocol, which V8 only
  // compiles away while nothing in the process has touched Array.prototype's iterator.
  for (let i = 0; i < targetOwners.length; i++) {
    const ia = targetOwners[i]!;
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
    const target = matchLocal(state, receivedOn, targetOwners, true);
    if (target) {
      ifp = target;
      myAddress = targetIp;
    }
  }
  if (myAddress === undefined) {
    const sender = matchLocal(state, receivedOn, interfaces.ownersOf(senderIp), false);
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
  arpInputFrom(
    state,
    receivedOn,
    ifp,
    myAddress,
    bytes,
    offset,
    hardwareType,
    hardwareLen,
    operation,
    senderIp,
    targetIp,
  );
}

/**
 * The rest of in_arpinput, once it knows which of our addresses (`myAddress`) and which
 * interface (`ifp`) the frame is about: the sender's checks, the update of its entry, and the
 * reply.
 */
function arpInputFrom(
  state: EngineState,
  receivedOn: Interface,
  ifp: Interface,
  myAddress: Ipv4,
  bytes: Uint8Array,
  offset: number,
  hardwareType: number,
  hardwareLen: number,
  operation: number,
  senderIp: Ipv4,
  targetIp: Ipv4,
): void {
  const { stats, interfaces, config } = state;
  const shaOffset = offset + ARP_FIXED_HEADER_LEN;
  const ownMac = ifp.mac; // enaddr
  // The seed compares if_addrlen bytes of ar_sha. (readMac's arithmetic, done here: a double
  // returned by a call the compiler did not inline is boxed.)
  const senderMac =
    ((bytes[shaOffset]! << 8) | bytes[shaOffset + 1]!) * 0x1_0000_0000 +
    (((bytes[shaOffset + 2]! << 24) |
      (bytes[shaOffset + 3]! << 16) |
      (bytes[shaOffset + 4]! << 8) |
      bytes[shaOffset + 5]!) >>>
      0);
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
  if ((bytes[shaOffset]! & 1) !== 0) {
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
      bytes,
      shaOffset,
      hardwareLen,
      targetedUs,
      targetedUs && operation === ArpOp.Reply,
      gratuitous,
    );
  }

  // reply:
  if (operation !== ArpOp.Request) return;
  // The MAC we answer with: ours (I am the target, or proxyall), else the published entry's.
  let published = NIL;
  if (targetIp !== myAddress) {
    published = state.table.published(targetIp);
    if (published === NIL || state.table.mac[published] === NO_MAC) {
      published = NIL;
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
    }
  }
  // Differs from if_ether.c: the seed copies ar_hln bytes of our 6-byte address into a reply
  // shaped like the request; netarp only answers requests whose hln is the interface's.
  if (hardwareLen !== IF_ADDR_LEN) {
    stats.rxUnanswerableLength++;
    return;
  }
  // The reply goes back to the requester's hardware address with the fields swapped.
  state.sendReply(ifp, bytes, shaOffset, hardwareType, published, targetIp, senderIp);
  stats.txreplies++;
}

/**
 * Steps (1) and (2) of in_arpinput: whether an address is one of our (non-CARP, for the
 * target) addresses on the receiving interface, or on an interface sharing a bridge with it.
 * Returns the interface to continue with (the bridge, when the receiving port is a member),
 * else undefined.
 */
function matchLocal(
  state: EngineState,
  receivedOn: Interface,
  /** The interfaces owning the address (`ownersOf`). */
  owners: readonly Interface[],
  skipCarp: boolean,
): Interface | undefined {
  const { interfaces } = state;
  for (let i = 0; i < owners.length; i++) {
    const owner = owners[i]!;
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

/** ar_sha for a log line: its first if_addrlen bytes (fewer if ar_hln or the frame is shorter). */
function senderHardwareBytes(
  bytes: Uint8Array,
  shaOffset: number,
  hardwareLen: number,
): Uint8Array {
  return bytes.subarray(shaOffset, shaOffset + Math.min(hardwareLen, IF_ADDR_LEN));
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
  /**
   * The frame, and where ar_sha (ar_hln bytes) starts in it. The sender's MAC is read from it
   * again here rather than passed: a MAC is a double, and passing one to a function the
   * compiler did not inline allocates a box for it on every frame.
   */
  bytes: Uint8Array,
  shaOffset: number,
  hardwareLen: number,
  /** We are the target (RFC 826: "Am I the target?"). */
  targetedUs: boolean,
  /** A reply to us: the answer to our request, if one is outstanding. */
  replyToUs: boolean,
  /** Sender IP equals target IP: RFC 5227 section 3's ARP Announcement, or a reply alike. */
  gratuitous: boolean,
): void {
  const { stats, config, interfaces, table } = state;
  let slot = table.host(senderIp);
  if (slot === NIL && !targetedUs) return;
  // ar_sha's first six bytes as a MAC (readMac's arithmetic, done here: a double returned by a
  // call the compiler did not inline is boxed).
  const senderMac =
    ((bytes[shaOffset]! << 8) | bytes[shaOffset + 1]!) * 0x1_0000_0000 +
    (((bytes[shaOffset + 2]! << 24) |
      (bytes[shaOffset + 3]! << 16) |
      (bytes[shaOffset + 4]! << 8) |
      bytes[shaOffset + 5]!) >>>
      0);
  // The common case, a known neighbour heard again as it is known (accepted with `accept`
  // 0, on its entry's interface, at the MAC the entry has), takes the last steps below
  // directly: `refreshEntry` is what the rest of this function does for it.
  if (
    slot !== NIL &&
    config.accept === 0 &&
    hardwareLen === IF_ADDR_LEN &&
    table.ifIndex[slot] === receivedOn.index &&
    receivedOn.kind !== 'carp' &&
    table.mac[slot] === senderMac
  ) {
    refreshEntry(state, slot);
    return;
  }
  let learned = NIL; // created by this frame
  if (!accepted(state, receivedOn, senderIp, replyToUs, slot)) return;
  if (slot === NIL) {
    const route = state.routes.lookup(senderIp);
    if (!route) return;
    if (route.kind === 'gateway') {
      state.log('debug', 'lookupFailed', senderIp, 'host is not on local network');
      return;
    }
    const sourceIp =
      route.kind === 'connected' ? route.address.address : (route.iface.addresses[0]?.address ?? 0);
    slot = state.learnEntry(senderIp, route.iface, sourceIp, 'learned');
    if (slot === NIL) return; // nothing the network may evict is left (counted as tableFull)
    learned = slot;
  }
  let ifp = receivedOn;
  const entryIfIndex = table.ifIndex[slot]!;
  // Differs from if_ether.c: a CARP interface hears its requests through its parent, and the
  // parent usually holds an address in the same subnet, so the requester's entry lives on the
  // parent. The seed would call that the wrong interface on every request to the virtual
  // address and never learn the requester; netarp treats CARP and parent as one link here.
  if (ifp.kind === 'carp' && ifp.carpParent === entryIfIndex) {
    ifp = interfaces.get(entryIfIndex) ?? ifp;
  }
  if (entryIfIndex !== ifp.index) {
    // Arriving on another interface is an error unless bridging relates the two (l.686).
    const entryIf = interfaces.get(entryIfIndex);
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
        senderHardwareBytes(bytes, shaOffset, hardwareLen),
        ifp.name,
      );
    }
    if (!moveTo) {
      stats.rxWrongInterface++;
      if (learned !== NIL) state.boundUnresolved(learned);
      return;
    }
    // Differs from if_ether.c: the seed moves the entry to the bridge (l.731) before it looks
    // at whether the entry is permanent (l.737), so any frame from a static or local address
    // heard on another port of the bridge re-homes it. A permanent entry keeps its interface.
    if (table.expire[slot] !== PERMANENT) table.ifIndex[slot] = moveTo.index;
    ifp = moveTo;
  }
  const mac = table.mac[slot]!;
  const expire = table.expire[slot]!;
  let moved = false;
  if (mac !== NO_MAC && senderMac !== mac) {
    if (expire !== PERMANENT) {
      // Linux's locktime (arp_process): "If several different ARP replies follows back-to-back,
      // use the FIRST one", a gratuitous ARP excepted so that an address can still move.
      if (
        config.locktime > 0 &&
        !gratuitous &&
        state.nowMs < table.macSetAt[slot]! + config.locktime
      ) {
        stats.rxLocked++;
        return;
      }
      if (config.log_arp_movements) {
        state.log(
          'info',
          'moved',
          senderIp,
          mac,
          senderHardwareBytes(bytes, shaOffset, hardwareLen),
          ifp.name,
        );
      }
      moved = true;
    } else {
      if (config.log_arp_permanent_modify) {
        state.log(
          'err',
          'permanentModify',
          senderHardwareBytes(bytes, shaOffset, hardwareLen),
          senderIp,
          ifp.name,
        );
      }
      stats.rxPermanentModify++;
      return;
    }
  }
  // Sanity checks of the address length (l.763 and l.769).
  if (hardwareLen !== IF_ADDR_LEN) {
    const sha = senderHardwareBytes(bytes, shaOffset, hardwareLen);
    if (mac !== NO_MAC) state.log('warning', 'newAddrLen', sha, hardwareLen, IF_ADDR_LEN);
    state.log('warning', 'addrLenIgnored', sha, hardwareLen, IF_ADDR_LEN);
    stats.rxAddressLength++;
    if (learned !== NIL) state.boundUnresolved(learned);
    return;
  }
  const wasUnresolved = mac === NO_MAC;
  if (wasUnresolved || moved) table.macSetAt[slot] = state.nowMs;
  table.mac[slot] = senderMac;
  if (expire !== PERMANENT) table.expire[slot] = state.nowSec + config.max_age;
  table.flags[slot] = table.flags[slot]! & ~(Flag.Reject | Flag.RequestOutstanding);
  table.asked[slot] = 0;
  table.preempt[slot] = config.maxtries;
  table.touch(slot, state.nowSec);
  if (moved) state.report('change', slot, 'moved');
  else if (wasUnresolved) state.report('resolve', slot, 'learned');
  if (table.heldCount[slot] !== 0) state.deliverHeld(slot);
  else if (wasUnresolved) state.relist(slot);
}

/**
 * The end of arp_update_oncpu for an entry that already has the sender's MAC: valid for
 * another max_age, no longer down or asking, at the front of its LRU list, and its held
 * packets (none, unless it was reset by the prune pass and its MAC set again) handed over.
 */
function refreshEntry(state: EngineState, slot: number): void {
  const { table, config } = state;
  if (table.expire[slot] !== PERMANENT) table.expire[slot] = state.nowSec + config.max_age;
  table.flags[slot] = table.flags[slot]! & ~(Flag.Reject | Flag.RequestOutstanding);
  table.asked[slot] = 0;
  table.preempt[slot] = config.maxtries;
  table.touch(slot, state.nowSec);
  if (table.heldCount[slot] !== 0) state.deliverHeld(slot);
}

/**
 * netarp's `accept` policy, for a frame that would create or update the entry in `slot` (NIL:
 * none yet). The answer to a request we have outstanding is always taken. Anything else is
 * unsolicited: taken with `accept` 0 (RFC 826 and the seed), never with 1, and with 2 only
 * from a sender inside a subnet of the receiving interface (or of its bridge), where Linux's
 * arp_accept 2 draws the line for gratuitous ARP.
 */
function accepted(
  state: EngineState,
  receivedOn: Interface,
  senderIp: Ipv4,
  replyToUs: boolean,
  slot: number,
): boolean {
  const { config, stats, table } = state;
  if (config.accept === 0) return true;
  if (replyToUs && slot !== NIL && table.has(slot, Flag.RequestOutstanding)) return true;
  if (config.accept === 1) {
    stats.rxUnsolicited++;
    return false;
  }
  if (onLink(receivedOn, senderIp) || onLink(state.interfaces.bridgeOf(receivedOn), senderIp)) {
    return true;
  }
  stats.rxOffSubnet++;
  return false;
}

/** Whether `ip` is inside a subnet of `iface`. */
function onLink(iface: Interface | undefined, ip: Ipv4): boolean {
  return iface?.addresses.some((a) => covers(a, ip)) ?? false;
}
