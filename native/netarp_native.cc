// netarp's native addon: the few Linux system calls Node has no API for, and a frame channel
// that reads a non-blocking descriptor on Node's own event loop.
//
//   openTap(name)               open("/dev/net/tun") + ioctl(TUNSETIFF, IFF_TAP|IFF_NO_PI)
//   openPacket(device, ...)     socket(AF_PACKET, SOCK_RAW) + bind(sockaddr_ll)
//   openUdp(address, port)      socket(AF_INET, SOCK_DGRAM) + IP_RECVERR + bind (VXLAN's underlay)
//   new Channel(fd, mode, ...)  uv_poll_t on fd; a whole batch of frames per wakeup
//
// No thread is ever parked on a descriptor: the channel's uv_poll_t is an epoll registration
// on the main loop, and its callback drains up to one batch with non-blocking reads (read()
// for TAP, one recvmmsg() for AF_PACKET and UDP), then makes one call into JavaScript for the
// batch. Frames go into a ring (an ArrayBuffer the JavaScript side owns) so no wakeup
// allocates. Writes are one non-blocking write() on the calling thread: the kernel copies the
// frame before the call returns, so the caller may reuse its buffer at once. A UDP channel
// also has a transmit ring: JavaScript queues datagrams in it and flush() sends them all, to
// every remote, with sendmmsg().
//
// Errors never throw from the loop: they are reported to JavaScript as errno values, which
// decides whether the link carries on or is gone (src/link/native/native-link.ts). Why an
// addon and not an FFI, and how it is built: docs/native.md.

#include <napi.h>
#include <uv.h>

#include <arpa/inet.h>
#include <fcntl.h>
#include <linux/errqueue.h>
#include <linux/filter.h>
#include <linux/if_ether.h>
#include <linux/if_packet.h>
#include <linux/if_tun.h>
#include <net/if.h>
#include <netinet/in.h>
#include <sys/ioctl.h>
#include <sys/socket.h>
#include <sys/uio.h>
#include <unistd.h>

#include <algorithm>
#include <cctype>
#include <cerrno>
#include <cstddef>
#include <cstring>
#include <memory>
#include <string>
#include <vector>

#ifndef PACKET_IGNORE_OUTGOING
#define PACKET_IGNORE_OUTGOING 23  // linux/if_packet.h since Linux 4.20
#endif

namespace {

// Bumped whenever the interface below changes, so a stale build is refused with a clear
// message instead of failing in odd ways (src/link/native/addon.ts checks it).
constexpr uint32_t kApiVersion = 3;

// The most frames one wakeup reads: a bound on the time one link holds the loop.
constexpr uint32_t kMaxBatch = 1024;

// The most datagrams one flush may have to send (queued slots x remotes): a bound on the
// message headers a channel keeps (64 bytes each).
constexpr size_t kMaxTransmitMessages = 1 << 16;

// Channel modes: how a wakeup reads its batch.
constexpr uint32_t kModeRead = 0;      // read() until EAGAIN (TAP, SOCK_SEQPACKET pairs)
constexpr uint32_t kModeRecvmmsg = 1;  // recvmmsg() once (AF_PACKET, UDP; any datagram socket)
constexpr uint32_t kModeUdp = 2;       // recvmmsg() once, and the ICMP errors IP_RECVERR queues

// Error-queue entries one wakeup reads at most (each an ICMP error about a datagram we sent).
constexpr int kMaxQueuedErrors = 64;

// Receive filters for openPacket.
constexpr uint32_t kFilterAll = 0;      // every frame (ETH_P_ALL)
constexpr uint32_t kFilterArpIpv4 = 1;  // EtherType 0x0806 or 0x0800, chosen in the kernel

// An errno's name ("ENODEV"): libuv's, which Node's own errors use, except for the few Linux
// errnos libuv does not know that these devices return (a deleted TAP device: EBADFD). The
// _r forms write into a buffer: the plain ones allocate, never to be freed, for unknown codes.
std::string ErrnoName(int err) {
  switch (err) {
    case EBADFD:
      return "EBADFD";
    case EIDRM:
      return "EIDRM";
    case ENOTUNIQ:
      return "ENOTUNIQ";
    default:
      break;
  }
  char name[64];
  uv_err_name_r(-err, name, sizeof name);
  return std::strncmp(name, "Unknown", 7) == 0 ? "E" + std::to_string(err) : std::string(name);
}

// An errno's text: libuv's lowercase wording where it knows the errno, else the C library's.
std::string ErrnoText(int err) {
  char name[64];
  uv_err_name_r(-err, name, sizeof name);
  if (std::strncmp(name, "Unknown", 7) != 0) {
    char text[128];
    uv_strerror_r(-err, text, sizeof text);
    return text;
  }
  std::string text = std::strerror(err);
  if (!text.empty()) text[0] = static_cast<char>(std::tolower(static_cast<unsigned char>(text[0])));
  return text;
}

// An Error with Node's usual errno fields: code ("ENODEV"), errno, syscall.
Napi::Error ErrnoError(Napi::Env env, int err, const char* syscall, const std::string& what) {
  std::string message = what + ": " + syscall + ": " + ErrnoText(err);
  Napi::Error error = Napi::Error::New(env, message);
  error.Set("code", Napi::String::New(env, ErrnoName(err)));
  error.Set("errno", Napi::Number::New(env, err));
  error.Set("syscall", Napi::String::New(env, syscall));
  return error;
}

// An interface name as the kernel takes it: 1..IFNAMSIZ-1 bytes. Checked again in TypeScript
// with a friendlier message; this only keeps the copy below in bounds.
bool CopyName(const std::string& name, char (&out)[IFNAMSIZ]) {
  if (name.empty() || name.size() >= IFNAMSIZ) return false;
  std::memset(out, 0, IFNAMSIZ);
  std::memcpy(out, name.data(), name.size());
  return true;
}

// The hardware type (ARPHRD_*), hardware address (as a 48-bit number) and MTU of the
// interface `name`, asked through a scratch socket (a TAP descriptor answers SIOCGIFHWADDR but
// not SIOCGIFMTU); each stays at -1 when the kernel refuses.
void InterfaceInfo(const char* name, double* type, double* mac, double* mtu) {
  *type = -1;
  *mac = -1;
  *mtu = -1;
  int fd = socket(AF_INET, SOCK_DGRAM | SOCK_CLOEXEC, 0);
  if (fd < 0) return;
  struct ifreq ifr;
  std::memset(&ifr, 0, sizeof ifr);
  std::strncpy(ifr.ifr_name, name, IFNAMSIZ - 1);
  if (ioctl(fd, SIOCGIFHWADDR, &ifr) == 0) {
    *type = ifr.ifr_hwaddr.sa_family;
    double value = 0;
    for (int i = 0; i < 6; i++) {
      value = value * 256 + static_cast<unsigned char>(ifr.ifr_hwaddr.sa_data[i]);
    }
    *mac = value;
  }
  std::memset(&ifr, 0, sizeof ifr);
  std::strncpy(ifr.ifr_name, name, IFNAMSIZ - 1);
  if (ioctl(fd, SIOCGIFMTU, &ifr) == 0) *mtu = ifr.ifr_mtu;
  close(fd);
}

// openTap(name: string) -> { fd, name, mac, mtu }
// Creates the TAP device `name` (a pattern such as "tap%d" lets the kernel pick), or attaches
// to an existing one (made persistent by `ip tuntap add`). A device created here lives until
// the descriptor is closed.
Napi::Value OpenTap(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  if (info.Length() < 1 || !info[0].IsString()) {
    Napi::TypeError::New(env, "openTap(name: string)").ThrowAsJavaScriptException();
    return env.Undefined();
  }
  std::string name = info[0].As<Napi::String>().Utf8Value();
  struct ifreq ifr;
  if (!CopyName(name, ifr.ifr_name)) {
    Napi::RangeError::New(env, "tap: device name must be 1..15 bytes").ThrowAsJavaScriptException();
    return env.Undefined();
  }
  int fd = open("/dev/net/tun", O_RDWR | O_NONBLOCK | O_CLOEXEC);
  if (fd < 0) {
    ErrnoError(env, errno, "open", "tap " + name + ": /dev/net/tun").ThrowAsJavaScriptException();
    return env.Undefined();
  }
  // IFF_TAP: Ethernet frames (not IP packets); IFF_NO_PI: no 4-byte packet-info prefix.
  ifr.ifr_flags = IFF_TAP | IFF_NO_PI;
  if (ioctl(fd, TUNSETIFF, &ifr) < 0) {
    int err = errno;
    close(fd);
    ErrnoError(env, err, "ioctl(TUNSETIFF)", "tap " + name).ThrowAsJavaScriptException();
    return env.Undefined();
  }
  char actual[IFNAMSIZ];
  std::memcpy(actual, ifr.ifr_name, IFNAMSIZ);
  actual[IFNAMSIZ - 1] = '\0';
  double type;
  double mac;
  double mtu;
  InterfaceInfo(actual, &type, &mac, &mtu);
  Napi::Object result = Napi::Object::New(env);
  result.Set("fd", Napi::Number::New(env, fd));
  result.Set("name", Napi::String::New(env, actual));
  result.Set("mac", Napi::Number::New(env, mac));
  result.Set("mtu", Napi::Number::New(env, mtu));
  return result;
}

// openPacket(device: string, filter: number, unicastMac: number, ignoreOutgoing: boolean) ->
// { fd, ifIndex, ignoresOutgoing }
// An AF_PACKET socket bound to `device`. The socket is created with protocol 0, so it takes
// no frame at all until bind() names both the protocol and the interface: no frame from
// another interface slips in between. The kernel never hands a packet socket its own
// transmissions back (skb_loop_sk), but it does copy every other frame the host sends on the
// interface to it; PACKET_IGNORE_OUTGOING keeps those out of the receive queue (Linux >= 4.20;
// older kernels, or ignoreOutgoing false, rely on the sll_pkttype check in the channel).
// unicastMac >= 0 adds that MAC to the interface's unicast filter (PACKET_MR_UNICAST; the
// kernel falls back to promiscuous mode where the driver has no filter) for as long as the
// socket lives.
Napi::Value OpenPacket(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  if (info.Length() < 4 || !info[0].IsString() || !info[1].IsNumber() || !info[2].IsNumber() ||
      !info[3].IsBoolean()) {
    Napi::TypeError::New(env,
                         "openPacket(device: string, filter: number, unicastMac: number, "
                         "ignoreOutgoing: boolean)")
        .ThrowAsJavaScriptException();
    return env.Undefined();
  }
  std::string device = info[0].As<Napi::String>().Utf8Value();
  uint32_t filter = info[1].As<Napi::Number>().Uint32Value();
  double unicastMac = info[2].As<Napi::Number>().DoubleValue();
  bool ignoreOutgoing = info[3].As<Napi::Boolean>().Value();
  char name[IFNAMSIZ];
  if (!CopyName(device, name)) {
    Napi::RangeError::New(env, "packet: device name must be 1..15 bytes")
        .ThrowAsJavaScriptException();
    return env.Undefined();
  }
  std::string what = "packet " + device;
  unsigned int ifIndex = if_nametoindex(name);
  if (ifIndex == 0) {
    ErrnoError(env, errno, "if_nametoindex", what).ThrowAsJavaScriptException();
    return env.Undefined();
  }
  int fd = socket(AF_PACKET, SOCK_RAW | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
  if (fd < 0) {
    ErrnoError(env, errno, "socket(AF_PACKET)", what).ThrowAsJavaScriptException();
    return env.Undefined();
  }
  auto fail = [&](const char* syscall) {
    int err = errno;
    close(fd);
    ErrnoError(env, err, syscall, what).ThrowAsJavaScriptException();
    return env.Undefined();
  };
  if (filter == kFilterArpIpv4) {
    // Classic BPF, run by the kernel before a frame is queued: accept EtherType ARP or IPv4
    // (the only ones the runtime uses), drop the rest without waking us.
    static struct sock_filter code[] = {
        BPF_STMT(BPF_LD | BPF_H | BPF_ABS, 12),              // A = EtherType
        BPF_JUMP(BPF_JMP | BPF_JEQ | BPF_K, ETH_P_ARP, 2, 0),  // ARP -> accept
        BPF_JUMP(BPF_JMP | BPF_JEQ | BPF_K, ETH_P_IP, 1, 0),   // IPv4 -> accept
        BPF_STMT(BPF_RET | BPF_K, 0),                         // drop
        BPF_STMT(BPF_RET | BPF_K, 0x40000),                   // accept, whole frame
    };
    struct sock_fprog program = {sizeof code / sizeof code[0], code};
    if (setsockopt(fd, SOL_SOCKET, SO_ATTACH_FILTER, &program, sizeof program) < 0) {
      return fail("setsockopt(SO_ATTACH_FILTER)");
    }
  } else if (filter != kFilterAll) {
    close(fd);
    Napi::RangeError::New(env, "packet: unknown filter").ThrowAsJavaScriptException();
    return env.Undefined();
  }
  int one = 1;
  bool ignoresOutgoing =
      ignoreOutgoing &&
      setsockopt(fd, SOL_PACKET, PACKET_IGNORE_OUTGOING, &one, sizeof one) == 0;
  struct sockaddr_ll address;
  std::memset(&address, 0, sizeof address);
  address.sll_family = AF_PACKET;
  address.sll_protocol = htons(ETH_P_ALL);
  address.sll_ifindex = static_cast<int>(ifIndex);
  if (bind(fd, reinterpret_cast<struct sockaddr*>(&address), sizeof address) < 0) {
    return fail("bind");
  }
  if (unicastMac >= 0) {
    struct packet_mreq membership;
    std::memset(&membership, 0, sizeof membership);
    membership.mr_ifindex = static_cast<int>(ifIndex);
    membership.mr_type = PACKET_MR_UNICAST;
    membership.mr_alen = 6;
    uint64_t mac = static_cast<uint64_t>(unicastMac);
    for (int i = 5; i >= 0; i--) {
      membership.mr_address[i] = static_cast<unsigned char>(mac & 0xff);
      mac >>= 8;
    }
    if (setsockopt(fd, SOL_PACKET, PACKET_ADD_MEMBERSHIP, &membership, sizeof membership) < 0) {
      return fail("setsockopt(PACKET_ADD_MEMBERSHIP)");
    }
  }
  Napi::Object result = Napi::Object::New(env);
  result.Set("fd", Napi::Number::New(env, fd));
  result.Set("ifIndex", Napi::Number::New(env, ifIndex));
  result.Set("ignoresOutgoing", Napi::Boolean::New(env, ignoresOutgoing));
  return result;
}

// openUdp(address: string, port: number) -> { fd, address, port }
// A non-blocking UDP socket bound to `address`:`port` (port 0: the kernel picks a free one),
// for a VXLAN link read and written through a channel. The bind is exclusive: no
// SO_REUSEADDR or SO_REUSEPORT, so a port another socket holds is refused (EADDRINUSE), as
// node:dgram's bind({ exclusive: true }) does. Returns the address and port actually bound.
Napi::Value OpenUdp(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  if (info.Length() < 2 || !info[0].IsString() || !info[1].IsNumber()) {
    Napi::TypeError::New(env, "openUdp(address: string, port: number)")
        .ThrowAsJavaScriptException();
    return env.Undefined();
  }
  std::string text = info[0].As<Napi::String>().Utf8Value();
  double port = info[1].As<Napi::Number>().DoubleValue();
  struct sockaddr_in address;
  std::memset(&address, 0, sizeof address);
  address.sin_family = AF_INET;
  // Checked in TypeScript with a friendlier message; this keeps the call well-defined.
  if (inet_pton(AF_INET, text.c_str(), &address.sin_addr) != 1 || !(port >= 0 && port <= 65535) ||
      port != static_cast<double>(static_cast<uint16_t>(port))) {
    Napi::RangeError::New(env, "udp: address must be dotted IPv4 and port 0..65535")
        .ThrowAsJavaScriptException();
    return env.Undefined();
  }
  address.sin_port = htons(static_cast<uint16_t>(port));
  std::string what = "vxlan " + text + ":" + std::to_string(static_cast<int>(port));
  int fd = socket(AF_INET, SOCK_DGRAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
  if (fd < 0) {
    ErrnoError(env, errno, "socket(AF_INET)", what).ThrowAsJavaScriptException();
    return env.Undefined();
  }
  // ICMP errors about what we send (a remote with no VXLAN endpoint on its port, or no route
  // to it) are queued for us to read; without it an unconnected socket never hears of them.
  int on = 1;
  if (setsockopt(fd, IPPROTO_IP, IP_RECVERR, &on, sizeof on) < 0) {
    int err = errno;
    close(fd);
    ErrnoError(env, err, "setsockopt(IP_RECVERR)", what).ThrowAsJavaScriptException();
    return env.Undefined();
  }
  if (bind(fd, reinterpret_cast<struct sockaddr*>(&address), sizeof address) < 0) {
    int err = errno;
    close(fd);
    ErrnoError(env, err, "bind", what).ThrowAsJavaScriptException();
    return env.Undefined();
  }
  struct sockaddr_in bound;
  socklen_t size = sizeof bound;
  char name[INET_ADDRSTRLEN];
  if (getsockname(fd, reinterpret_cast<struct sockaddr*>(&bound), &size) < 0 ||
      inet_ntop(AF_INET, &bound.sin_addr, name, sizeof name) == nullptr) {
    int err = errno;
    close(fd);
    ErrnoError(env, err, "getsockname", what).ThrowAsJavaScriptException();
    return env.Undefined();
  }
  Napi::Object result = Napi::Object::New(env);
  result.Set("fd", Napi::Number::New(env, fd));
  result.Set("address", Napi::String::New(env, name));
  result.Set("port", Napi::Number::New(env, ntohs(bound.sin_port)));
  return result;
}

// interfaceInfo(name) -> { ifIndex, hardwareType, mac, mtu }: what an unprivileged process
// may ask of an interface; ifIndex 0 when there is none.
Napi::Value InterfaceInfoJs(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  char name[IFNAMSIZ];
  if (info.Length() < 1 || !info[0].IsString() ||
      !CopyName(info[0].As<Napi::String>().Utf8Value(), name)) {
    Napi::TypeError::New(env, "interfaceInfo(name: string of 1..15 bytes)")
        .ThrowAsJavaScriptException();
    return env.Undefined();
  }
  double type;
  double mac;
  double mtu;
  InterfaceInfo(name, &type, &mac, &mtu);
  Napi::Object result = Napi::Object::New(env);
  result.Set("ifIndex", Napi::Number::New(env, if_nametoindex(name)));
  result.Set("hardwareType", Napi::Number::New(env, type));
  result.Set("mac", Napi::Number::New(env, mac));
  result.Set("mtu", Napi::Number::New(env, mtu));
  return result;
}

// interfaceIndex(name) -> the interface's index, or 0 when there is none (it was deleted).
Napi::Value InterfaceIndex(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  char name[IFNAMSIZ];
  if (info.Length() < 1 || !info[0].IsString() ||
      !CopyName(info[0].As<Napi::String>().Utf8Value(), name)) {
    return Napi::Number::New(env, 0);
  }
  return Napi::Number::New(env, if_nametoindex(name));
}

// socketPair(type: "seqpacket" | "dgram") -> [fd, fd]: a connected, non-blocking AF_UNIX pair
// whose messages keep their boundaries like frames do. Lets the channel be tested without
// root or devices.
Napi::Value SocketPair(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  bool datagram = info.Length() > 0 && info[0].IsString() &&
                  info[0].As<Napi::String>().Utf8Value() == "dgram";
  int fds[2];
  int type = (datagram ? SOCK_DGRAM : SOCK_SEQPACKET) | SOCK_NONBLOCK | SOCK_CLOEXEC;
  if (socketpair(AF_UNIX, type, 0, fds) < 0) {
    ErrnoError(env, errno, "socketpair", "socketPair").ThrowAsJavaScriptException();
    return env.Undefined();
  }
  Napi::Array result = Napi::Array::New(env, 2);
  result.Set(0u, Napi::Number::New(env, fds[0]));
  result.Set(1u, Napi::Number::New(env, fds[1]));
  return result;
}

// closeFd(fd): for a descriptor no channel took over.
Napi::Value CloseFd(const Napi::CallbackInfo& info) {
  if (info.Length() > 0 && info[0].IsNumber()) close(info[0].As<Napi::Number>().Int32Value());
  return info.Env().Undefined();
}

// errorName(errno) -> "ENODEV"; errorText(errno) -> "no such device" (libuv's wording, as
// Node's own errors use).
Napi::Value ErrorName(const Napi::CallbackInfo& info) {
  int err = info.Length() > 0 && info[0].IsNumber() ? info[0].As<Napi::Number>().Int32Value() : 0;
  return Napi::String::New(info.Env(), ErrnoName(err));
}
Napi::Value ErrorText(const Napi::CallbackInfo& info) {
  int err = info.Length() > 0 && info[0].IsNumber() ? info[0].As<Napi::Number>().Int32Value() : 0;
  return Napi::String::New(info.Env(), ErrnoText(err));
}

// A non-blocking descriptor read on the event loop and written from the calling thread.
//
//   new Channel(fd, mode, ring: ArrayBuffer, slotSize, lengths: Uint32Array, onBatch)
//   onBatch(count, errno, truncated, outgoing): frames in ring slots 0..count-1, lengths[i]
//     bytes each (0: skip the slot); errno != 0 when a read failed after them (then polling
//     has stopped: the caller calls resume() or close()); -1 for end of file (the other end
//     of a socket pair closed); truncated/outgoing: frames dropped in this batch because they
//     did not fit a slot, or because they were the host's own transmissions.
//   start() / resume(): (re)arm the poll.  send(frame): bytes written or -errno.
//   setTransmit(ring: ArrayBuffer, slotSize, lengths: Uint32Array, remotes): a transmit ring
//     of lengths.length slots, and the IPv4 remotes ({ address, port }) every datagram goes
//     to; for UDP sockets.
//   flush(count): sends transmit slots 0..count-1 (lengths[i] bytes each) to every remote;
//     returns how many of the count x remotes datagrams were not sent (0: all went out), and
//     flushError() then gives { errno, remote } of the first failure (remote: its index).
//   close(): stop polling and close fd; idempotent.
class Channel : public Napi::ObjectWrap<Channel> {
 public:
  static Napi::Function Define(Napi::Env env) {
    return DefineClass(env, "Channel",
                       {
                           InstanceMethod("start", &Channel::Start),
                           InstanceMethod("resume", &Channel::Start),
                           InstanceMethod("send", &Channel::Send),
                           InstanceMethod("setTransmit", &Channel::SetTransmit),
                           InstanceMethod("flush", &Channel::Flush),
                           InstanceMethod("flushError", &Channel::FlushError),
                           InstanceMethod("close", &Channel::Close),
                       });
  }

  explicit Channel(const Napi::CallbackInfo& info) : Napi::ObjectWrap<Channel>(info) {
    Napi::Env env = info.Env();
    if (info.Length() < 6 || !info[0].IsNumber() || !info[1].IsNumber() ||
        !info[2].IsArrayBuffer() || !info[3].IsNumber() || !info[4].IsTypedArray() ||
        !info[5].IsFunction()) {
      Napi::TypeError::New(env,
                           "new Channel(fd, mode, ring: ArrayBuffer, slotSize, lengths: "
                           "Uint32Array, onBatch: Function)")
          .ThrowAsJavaScriptException();
      return;
    }
    fd_ = info[0].As<Napi::Number>().Int32Value();
    mode_ = info[1].As<Napi::Number>().Uint32Value();
    Napi::ArrayBuffer ring = info[2].As<Napi::ArrayBuffer>();
    slotSize_ = info[3].As<Napi::Number>().Uint32Value();
    Napi::TypedArray lengths = info[4].As<Napi::TypedArray>();
    if (lengths.TypedArrayType() != napi_uint32_array || slotSize_ == 0 ||
        lengths.ElementLength() == 0 || lengths.ElementLength() > kMaxBatch ||
        static_cast<size_t>(slotSize_) * lengths.ElementLength() > ring.ByteLength() ||
        (mode_ != kModeRead && mode_ != kModeRecvmmsg && mode_ != kModeUdp)) {
      Napi::RangeError::New(env, "Channel: ring, slot size, lengths or mode out of range")
          .ThrowAsJavaScriptException();
      return;
    }
    batch_ = static_cast<uint32_t>(lengths.ElementLength());
    ring_ = Napi::Persistent(ring);
    lengths_ = Napi::Persistent(lengths.As<Napi::Uint32Array>());
    onBatch_ = Napi::Persistent(info[5].As<Napi::Function>());
    context_ = std::make_unique<Napi::AsyncContext>(env, "netarp:link");
    if (mode_ != kModeRead) {
      messages_.resize(batch_);
      vectors_.resize(batch_);
      addresses_.resize(batch_);
    }
    uv_loop_t* loop = nullptr;
    if (napi_get_uv_event_loop(env, &loop) != napi_ok) {
      Napi::Error::New(env, "Channel: no event loop").ThrowAsJavaScriptException();
      return;
    }
    poll_ = new uv_poll_t;
    if (int status = uv_poll_init(loop, poll_, fd_); status < 0) {
      delete poll_;
      poll_ = nullptr;
      ErrnoError(env, -status, "uv_poll_init", "Channel").ThrowAsJavaScriptException();
      return;
    }
    poll_->data = this;
    open_ = true;
    // Stays reachable while open, whatever JavaScript drops: the loop calls back into it.
    Ref();
    napi_add_env_cleanup_hook(env, CleanupHook, this);
  }

  ~Channel() override { Shutdown(); }

 private:
  Napi::Value Start(const Napi::CallbackInfo& info) {
    if (open_ && !polling_) {
      if (int status = uv_poll_start(poll_, UV_READABLE, OnReadable); status < 0) {
        ErrnoError(info.Env(), -status, "uv_poll_start", "Channel").ThrowAsJavaScriptException();
        return info.Env().Undefined();
      }
      polling_ = true;
    }
    return info.Env().Undefined();
  }

  Napi::Value Send(const Napi::CallbackInfo& info) {
    Napi::Env env = info.Env();
    if (!open_) return Napi::Number::New(env, -EBADF);
    if (info.Length() < 1 || !info[0].IsTypedArray()) {
      return Napi::Number::New(env, -EINVAL);
    }
    // The view's own data pointer (offset included) and length: one call, no handles made.
    napi_typedarray_type type;
    size_t elements = 0;
    void* data = nullptr;
    if (napi_get_typedarray_info(env, info[0], &type, &elements, &data, nullptr, nullptr) !=
            napi_ok ||
        type != napi_uint8_array) {
      return Napi::Number::New(env, -EINVAL);
    }
    ssize_t written;
    do {
      written = write(fd_, data, elements);
    } while (written < 0 && errno == EINTR);
    return Napi::Number::New(env, written < 0 ? -errno : written);
  }

  // Takes the transmit ring and the remotes, and lays out one message header per (slot,
  // remote) pair once: datagram i to remote r is message i * remotes + r, so a flush of count
  // slots is the first count * remotes messages, in order, and only the lengths change.
  Napi::Value SetTransmit(const Napi::CallbackInfo& info) {
    Napi::Env env = info.Env();
    if (info.Length() < 4 || !info[0].IsArrayBuffer() || !info[1].IsNumber() ||
        !info[2].IsTypedArray() || !info[3].IsArray()) {
      Napi::TypeError::New(env,
                           "setTransmit(ring: ArrayBuffer, slotSize, lengths: Uint32Array, "
                           "remotes: { address, port }[])")
          .ThrowAsJavaScriptException();
      return env.Undefined();
    }
    Napi::ArrayBuffer ring = info[0].As<Napi::ArrayBuffer>();
    uint32_t slotSize = info[1].As<Napi::Number>().Uint32Value();
    Napi::TypedArray lengths = info[2].As<Napi::TypedArray>();
    Napi::Array list = info[3].As<Napi::Array>();
    size_t slots = lengths.ElementLength();
    if (lengths.TypedArrayType() != napi_uint32_array || slotSize == 0 || slots == 0 ||
        slots > kMaxBatch || static_cast<size_t>(slotSize) * slots > ring.ByteLength() ||
        list.Length() == 0 || slots * list.Length() > kMaxTransmitMessages) {
      Napi::RangeError::New(env, "setTransmit: ring, slot size, lengths or remotes out of range")
          .ThrowAsJavaScriptException();
      return env.Undefined();
    }
    std::vector<struct sockaddr_in> remotes(list.Length());
    for (uint32_t r = 0; r < list.Length(); r++) {
      Napi::Value item = list.Get(r);
      Napi::Value address = env.Undefined();
      Napi::Value port = env.Undefined();
      if (item.IsObject()) {
        address = item.As<Napi::Object>().Get("address");
        port = item.As<Napi::Object>().Get("port");
      }
      struct sockaddr_in& remote = remotes[r];
      std::memset(&remote, 0, sizeof remote);
      remote.sin_family = AF_INET;
      double number = port.IsNumber() ? port.As<Napi::Number>().DoubleValue() : -1;
      if (!address.IsString() ||
          inet_pton(AF_INET, address.As<Napi::String>().Utf8Value().c_str(), &remote.sin_addr) !=
              1 ||
          !(number >= 1 && number <= 65535) ||
          number != static_cast<double>(static_cast<uint16_t>(number))) {
        Napi::RangeError::New(env, "setTransmit: a remote is not { address: dotted IPv4, port }")
            .ThrowAsJavaScriptException();
        return env.Undefined();
      }
      remote.sin_port = htons(static_cast<uint16_t>(number));
    }
    txRing_ = Napi::Persistent(ring);
    txLengths_ = Napi::Persistent(lengths.As<Napi::Uint32Array>());
    txSlotSize_ = slotSize;
    txSlots_ = static_cast<uint32_t>(slots);
    remotes_ = std::move(remotes);
    txVectors_.assign(slots, iovec{});
    txMessages_.assign(slots * remotes_.size(), mmsghdr{});
    for (size_t i = 0; i < slots; i++) {
      for (size_t r = 0; r < remotes_.size(); r++) {
        struct msghdr& header = txMessages_[i * remotes_.size() + r].msg_hdr;
        header.msg_name = &remotes_[r];
        header.msg_namelen = sizeof remotes_[r];
        header.msg_iov = &txVectors_[i];
        header.msg_iovlen = 1;
      }
    }
    return env.Undefined();
  }

  // Sends the first count queued datagrams to every remote: one sendmmsg() for all of them
  // when the kernel takes them, more when it takes fewer at a time. A datagram the kernel
  // refuses on its own (EMSGSIZE, EACCES, a remote with no route) is skipped and the rest
  // still go; a full socket buffer or device queue (EAGAIN, ENOBUFS) ends the flush, since
  // the rest would meet the same. Nothing is retried later: what is not sent is counted by
  // the caller. Returns the number not sent; flushError() says why.
  Napi::Value Flush(const Napi::CallbackInfo& info) {
    Napi::Env env = info.Env();
    flushError_ = 0;
    flushErrorRemote_ = 0;
    if (txSlots_ == 0 || info.Length() < 1 || !info[0].IsNumber()) {
      Napi::TypeError::New(env, "flush(count: number) after setTransmit()")
          .ThrowAsJavaScriptException();
      return env.Undefined();
    }
    uint32_t count = info[0].As<Napi::Number>().Uint32Value();
    if (count > txSlots_) {
      Napi::RangeError::New(env, "flush: more datagrams than transmit slots")
          .ThrowAsJavaScriptException();
      return env.Undefined();
    }
    size_t total = static_cast<size_t>(count) * remotes_.size();
    if (!open_) {
      flushError_ = EBADF;
      return Napi::Number::New(env, static_cast<double>(total));
    }
    // The ring's address is asked for each flush, not kept: the ArrayBuffer is the
    // JavaScript side's.
    uint8_t* ring = static_cast<uint8_t*>(txRing_.Value().Data());
    const uint32_t* lengths = txLengths_.Value().Data();
    for (uint32_t i = 0; i < count; i++) {
      if (lengths[i] > txSlotSize_) {
        Napi::RangeError::New(env, "flush: a datagram is longer than its slot")
            .ThrowAsJavaScriptException();
        return env.Undefined();
      }
      txVectors_[i].iov_base = ring + static_cast<size_t>(i) * txSlotSize_;
      txVectors_[i].iov_len = lengths[i];
    }
    size_t next = 0;
    size_t notSent = 0;
    while (next < total) {
      // The kernel takes at most UIO_MAXIOV messages a call (it clamps vlen silently).
      unsigned int batch = static_cast<unsigned int>(std::min<size_t>(total - next, UIO_MAXIOV));
      int sent = sendmmsg(fd_, &txMessages_[next], batch, MSG_DONTWAIT);
      if (sent > 0) {
        next += static_cast<size_t>(sent);
        continue;
      }
      if (sent < 0 && errno == EINTR) continue;
      int error = sent < 0 ? errno : EIO;
      if (flushError_ == 0) {
        flushError_ = error;
        flushErrorRemote_ = static_cast<uint32_t>(next % remotes_.size());
      }
      if (error == EAGAIN || error == EWOULDBLOCK || error == ENOBUFS) {
        notSent += total - next;
        break;
      }
      // sendmmsg reports a datagram's error only when it is the first of the call: this one.
      notSent++;
      next++;
    }
    return Napi::Number::New(env, static_cast<double>(notSent));
  }

  Napi::Value FlushError(const Napi::CallbackInfo& info) {
    Napi::Object result = Napi::Object::New(info.Env());
    result.Set("errno", Napi::Number::New(info.Env(), flushError_));
    result.Set("remote", Napi::Number::New(info.Env(), flushErrorRemote_));
    return result;
  }

  Napi::Value Close(const Napi::CallbackInfo& info) {
    if (open_) {
      napi_remove_env_cleanup_hook(info.Env(), CleanupHook, this);
      Shutdown();
      Unref();
    }
    return info.Env().Undefined();
  }

  // Stops polling, closes the descriptor and hands the poll handle to libuv to free.
  void Shutdown() {
    if (!open_) return;
    open_ = false;
    polling_ = false;
    uv_poll_stop(poll_);
    close(fd_);
    fd_ = -1;
    uv_close(reinterpret_cast<uv_handle_t*>(poll_),
             [](uv_handle_t* handle) { delete reinterpret_cast<uv_poll_t*>(handle); });
    poll_ = nullptr;
  }

  static void CleanupHook(void* self) { static_cast<Channel*>(self)->Shutdown(); }

  static void OnReadable(uv_poll_t* handle, int status, int /*events*/) {
    static_cast<Channel*>(handle->data)->Drain(status);
  }

  // Reads one batch and makes one call into JavaScript for it.
  void Drain(int status) {
    if (!open_) return;
    Napi::Env env = Env();
    Napi::HandleScope scope(env);
    uint8_t* ring = static_cast<uint8_t*>(ring_.Value().Data());
    uint32_t* lengths = lengths_.Value().Data();
    uint32_t count = 0;
    uint32_t truncated = 0;
    uint32_t outgoing = 0;
    int error = 0;
    icmpErrors_ = 0;
    if (status < 0 && mode_ == kModeUdp) {
      // POLLERR on a UDP socket with IP_RECVERR: ICMP errors are queued (libuv stopped the
      // handle, uv__poll_io). Read them, poll again, and read what data came as well.
      polling_ = false;
      ReadErrorQueue();
      if (int restart = uv_poll_start(poll_, UV_READABLE, OnReadable); restart < 0) {
        error = -restart;
      } else {
        polling_ = true;
        error = RecvBatch(ring, lengths, &count, &truncated, &outgoing);
      }
    } else if (status < 0) {
      // libuv saw POLLERR and stopped the handle (uv__poll_io); the descriptor's own error
      // says why (a socket's pending error, or what a read now returns).
      polling_ = false;
      error = PendingError();
    } else if (mode_ == kModeRead) {
      error = ReadBatch(ring, lengths, &count, &truncated);
    } else {
      error = RecvBatch(ring, lengths, &count, &truncated, &outgoing);
    }
    if (error != 0 && polling_) {
      uv_poll_stop(poll_);
      polling_ = false;
    }
    if (count == 0 && error == 0 && truncated == 0 && outgoing == 0 && icmpErrors_ == 0) return;
    Napi::Value result = onBatch_.Value().MakeCallback(
        Value(),
        {Napi::Number::New(env, count), Napi::Number::New(env, error),
         Napi::Number::New(env, truncated), Napi::Number::New(env, outgoing),
         Napi::Number::New(env, icmpErrors_), Napi::Number::New(env, icmpErrno_),
         Napi::Number::New(env, icmpAddress_), Napi::Number::New(env, icmpPort_)},
        *context_);
    (void)result;
    if (env.IsExceptionPending()) {
      // The JavaScript side catches its handlers' exceptions; one that still escapes is a
      // bug, reported like any uncaught exception rather than lost in the loop.
      napi_fatal_exception(env, env.GetAndClearPendingException().Value());
    }
  }

  // read() until EAGAIN or the batch is full. Returns 0, an errno, or -1 for end of file.
  // A TAP read into a short buffer copies what fits and returns the frame's whole length
  // (tun_put_user), so a length above the slot means a cut frame: counted, dropped.
  int ReadBatch(uint8_t* ring, uint32_t* lengths, uint32_t* count, uint32_t* truncated) {
    for (uint32_t reads = 0; reads < batch_;) {
      ssize_t n = read(fd_, ring + static_cast<size_t>(*count) * slotSize_, slotSize_);
      if (n < 0 && errno == EINTR) continue;
      reads++;
      if (n > static_cast<ssize_t>(slotSize_)) {
        (*truncated)++;
      } else if (n > 0) {
        lengths[(*count)++] = static_cast<uint32_t>(n);
      } else if (n == 0) {
        return -1;
      } else if (errno == EAGAIN || errno == EWOULDBLOCK) {
        return 0;
      } else {
        return errno;
      }
    }
    return 0;
  }

  // One recvmmsg() for up to a batch. MSG_TRUNC makes each length the frame's real one, so a
  // frame larger than its slot is seen and dropped rather than handed on cut short. Frames the
  // host sent (sll_pkttype PACKET_OUTGOING) are dropped where the kernel does not; on a UDP
  // socket the source is a sockaddr_in, whose family is never AF_PACKET.
  int RecvBatch(uint8_t* ring, uint32_t* lengths, uint32_t* count, uint32_t* truncated,
                uint32_t* outgoing) {
    for (uint32_t i = 0; i < batch_; i++) {
      vectors_[i].iov_base = ring + static_cast<size_t>(i) * slotSize_;
      vectors_[i].iov_len = slotSize_;
      std::memset(&messages_[i], 0, sizeof messages_[i]);
      messages_[i].msg_hdr.msg_iov = &vectors_[i];
      messages_[i].msg_hdr.msg_iovlen = 1;
      messages_[i].msg_hdr.msg_name = &addresses_[i];
      messages_[i].msg_hdr.msg_namelen = sizeof addresses_[i];
    }
    int n;
    do {
      n = recvmmsg(fd_, messages_.data(), batch_, MSG_DONTWAIT | MSG_TRUNC, nullptr);
    } while (n < 0 && errno == EINTR);
    if (n < 0) {
      int err = errno;
      if (err == EAGAIN || err == EWOULDBLOCK) return 0;
      // A UDP socket's pending ICMP error (sk_err) comes out of the next receive: it is about
      // a datagram we sent, not a failure to receive. Read the queue it came with.
      if (mode_ == kModeUdp && IsIcmpErrno(err)) {
        ReadErrorQueue();
        return 0;
      }
      return err;
    }
    for (int i = 0; i < n; i++) {
      const struct mmsghdr& message = messages_[i];
      const struct sockaddr_ll& from = addresses_[i];
      uint32_t length = message.msg_len;
      if (message.msg_hdr.msg_namelen >= offsetof(struct sockaddr_ll, sll_pkttype) + 1 &&
          from.sll_family == AF_PACKET && from.sll_pkttype == PACKET_OUTGOING) {
        (*outgoing)++;
        length = 0;
      } else if ((message.msg_hdr.msg_flags & MSG_TRUNC) != 0 || length > slotSize_) {
        (*truncated)++;
        length = 0;
      }
      lengths[i] = length;
    }
    *count = static_cast<uint32_t>(n);
    return 0;
  }

  // The errnos an ICMP error about a sent datagram sets (ip_icmp_error, icmp_err_convert).
  static bool IsIcmpErrno(int err) {
    return err == ECONNREFUSED || err == EHOSTUNREACH || err == ENETUNREACH ||
           err == EHOSTDOWN || err == EPROTO || err == EMSGSIZE || err == EACCES ||
           err == ENOPROTOOPT || err == EOPNOTSUPP;
  }

  // Reads the socket's error queue (IP_RECVERR): each ICMP error about a datagram we sent is
  // counted, the last one's errno and destination kept for JavaScript. Then clears the
  // socket's pending error, which the same errors set.
  void ReadErrorQueue() {
    for (int i = 0; i < kMaxQueuedErrors; i++) {
      struct sockaddr_in destination;
      std::memset(&destination, 0, sizeof destination);
      uint8_t data[64];
      struct iovec vector = {data, sizeof data};
      alignas(struct cmsghdr) char control[256];
      struct msghdr message;
      std::memset(&message, 0, sizeof message);
      message.msg_name = &destination;
      message.msg_namelen = sizeof destination;
      message.msg_iov = &vector;
      message.msg_iovlen = 1;
      message.msg_control = control;
      message.msg_controllen = sizeof control;
      ssize_t n = recvmsg(fd_, &message, MSG_ERRQUEUE | MSG_DONTWAIT);
      if (n < 0) {
        if (errno == EINTR) continue;
        break;  // EAGAIN: the queue is empty
      }
      for (struct cmsghdr* c = CMSG_FIRSTHDR(&message); c != nullptr;
           c = CMSG_NXTHDR(&message, c)) {
        if (c->cmsg_level != IPPROTO_IP || c->cmsg_type != IP_RECVERR) continue;
        struct sock_extended_err extended;
        std::memcpy(&extended, CMSG_DATA(c), sizeof extended);
        if (extended.ee_origin != SO_EE_ORIGIN_ICMP && extended.ee_origin != SO_EE_ORIGIN_LOCAL) {
          continue;
        }
        icmpErrors_++;
        icmpErrno_ = static_cast<int>(extended.ee_errno);
        icmpAddress_ = ntohl(destination.sin_addr.s_addr);
        icmpPort_ = ntohs(destination.sin_port);
      }
    }
    int pending = 0;
    socklen_t size = sizeof pending;
    getsockopt(fd_, SOL_SOCKET, SO_ERROR, &pending, &size);
  }

  // Why the descriptor signalled an error: a socket's SO_ERROR (which also clears it), else
  // what a read returns now. EIO when neither says.
  int PendingError() {
    int error = 0;
    socklen_t size = sizeof error;
    if (getsockopt(fd_, SOL_SOCKET, SO_ERROR, &error, &size) == 0) return error != 0 ? error : EIO;
    uint8_t probe[1];
    ssize_t n = read(fd_, probe, 0);
    if (n < 0 && errno != EAGAIN && errno != EWOULDBLOCK && errno != EINTR) return errno;
    return EIO;
  }

  int fd_ = -1;
  uint32_t mode_ = kModeRead;
  // ICMP errors read in this wakeup (kModeUdp), and the last one's errno and destination.
  uint32_t icmpErrors_ = 0;
  int icmpErrno_ = 0;
  uint32_t icmpAddress_ = 0;
  uint32_t icmpPort_ = 0;
  uint32_t slotSize_ = 0;
  uint32_t batch_ = 0;
  bool open_ = false;
  bool polling_ = false;
  uv_poll_t* poll_ = nullptr;
  Napi::Reference<Napi::ArrayBuffer> ring_;
  Napi::Reference<Napi::Uint32Array> lengths_;
  Napi::FunctionReference onBatch_;
  std::unique_ptr<Napi::AsyncContext> context_;
  std::vector<struct mmsghdr> messages_;
  std::vector<struct iovec> vectors_;
  // Where each datagram came from. Sized for AF_PACKET's sockaddr_ll, which is larger than a
  // UDP socket's sockaddr_in, so one buffer serves both.
  std::vector<struct sockaddr_ll> addresses_;
  // The transmit side (setTransmit): the ring, one iovec per slot, the remotes, and one
  // message per (slot, remote) pair.
  Napi::Reference<Napi::ArrayBuffer> txRing_;
  Napi::Reference<Napi::Uint32Array> txLengths_;
  uint32_t txSlotSize_ = 0;
  uint32_t txSlots_ = 0;
  int flushError_ = 0;
  uint32_t flushErrorRemote_ = 0;
  std::vector<struct iovec> txVectors_;
  std::vector<struct sockaddr_in> remotes_;
  std::vector<struct mmsghdr> txMessages_;
};

static_assert(sizeof(struct sockaddr_ll) >= sizeof(struct sockaddr_in),
              "a channel's source address buffer must hold a UDP sender's address");

Napi::Object Init(Napi::Env env, Napi::Object exports) {
  exports.Set("apiVersion", Napi::Number::New(env, kApiVersion));
  exports.Set("maxBatch", Napi::Number::New(env, kMaxBatch));
  exports.Set("openTap", Napi::Function::New(env, OpenTap));
  exports.Set("openPacket", Napi::Function::New(env, OpenPacket));
  exports.Set("openUdp", Napi::Function::New(env, OpenUdp));
  exports.Set("interfaceInfo", Napi::Function::New(env, InterfaceInfoJs));
  exports.Set("interfaceIndex", Napi::Function::New(env, InterfaceIndex));
  exports.Set("socketPair", Napi::Function::New(env, SocketPair));
  exports.Set("closeFd", Napi::Function::New(env, CloseFd));
  exports.Set("errorName", Napi::Function::New(env, ErrorName));
  exports.Set("errorText", Napi::Function::New(env, ErrorText));
  exports.Set("Channel", Channel::Define(env));
  return exports;
}

}  // namespace

NODE_API_MODULE(netarp_native, Init)
