/*
 * loadgen: the wire benchmark's ARP load generator and reference responder (VXLAN over UDP).
 *
 * client  Closed loop. Keeps a window of ARP requests in flight, each from a distinct sender
 *         (sender i: IP base+i, MAC 02:00 followed by the four IP bytes), encapsulated in
 *         VXLAN (RFC 7348: flags 0x08, 24-bit VNI) and sent over one UDP socket to a VTEP: the
 *         kernel's vxlan device or netarp's node:dgram link. Every datagram received is checked
 *         field by field; only a correct reply (RFC 826: op 2, sender = the target's MAC and IP,
 *         target = the asking sender's MAC and IP, Ethernet addresses to match) frees its
 *         window slot and counts. A request unanswered after --timeout-ms frees its slot and
 *         counts as lost. Counts only what arrives inside the measured interval (after the
 *         warm-up), then prints one JSON object.
 *
 * reflect A responder that answers ARP requests for one address with the least work
 *         userspace can do over UDP (recvmmsg/sendmmsg batches, or one recvfrom/sendto per
 *         datagram with --batch 1, the pattern of an event-loop runtime). It is a reference:
 *         the ceiling the client can reach, and what the UDP path alone costs.
 *
 * Every run is bounded: the client stops after warm-up + duration, the reflector after
 * --max-ms, whatever happens. Linux only (recvmmsg/sendmmsg).
 */
#define _GNU_SOURCE
#include <arpa/inet.h>
#include <errno.h>
#include <netinet/in.h>
#include <poll.h>
#include <signal.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#define VXLAN_LEN 8
#define ETH_LEN 14
#define ARP_LEN 28
#define FRAME_LEN (ETH_LEN + ARP_LEN)
#define DGRAM_LEN (VXLAN_LEN + FRAME_LEN)
#define MAX_BATCH 256
#define MAX_HOSTS 65536
#define RX_BUF 2048
/* Round-trip histogram: 1 us buckets up to 100 ms, then one overflow bucket. */
#define HIST_BUCKETS 100001

static void die(const char *what) {
  fprintf(stderr, "loadgen: %s: %s\n", what, strerror(errno));
  exit(2);
}

static void usage(const char *why) {
  fprintf(stderr,
          "loadgen: %s\n"
          "usage: loadgen client --local IP:PORT --remote IP:PORT --vni N --target-ip IP\n"
          "         --target-mac MAC --sender-base IP --hosts H --window W --warmup-ms MS\n"
          "         --duration-ms MS [--timeout-ms MS] [--batch B] [--rcvbuf BYTES]\n"
          "       loadgen reflect --local IP:PORT --vni N --ip IP --mac MAC --max-ms MS\n"
          "         [--batch B]\n",
          why);
  exit(2);
}

static uint64_t now_ns(void) {
  struct timespec ts;
  clock_gettime(CLOCK_MONOTONIC, &ts);
  return (uint64_t)ts.tv_sec * 1000000000u + (uint64_t)ts.tv_nsec;
}

static double cpu_seconds(const struct timeval *tv) { return tv->tv_sec + tv->tv_usec / 1e6; }

static int parse_mac(const char *text, uint8_t mac[6]) {
  unsigned v[6];
  if (sscanf(text, "%x:%x:%x:%x:%x:%x", &v[0], &v[1], &v[2], &v[3], &v[4], &v[5]) != 6) return -1;
  for (int i = 0; i < 6; i++) {
    if (v[i] > 0xff) return -1;
    mac[i] = (uint8_t)v[i];
  }
  return 0;
}

static int parse_ip(const char *text, uint32_t *ip) {
  struct in_addr a;
  if (inet_pton(AF_INET, text, &a) != 1) return -1;
  *ip = ntohl(a.s_addr);
  return 0;
}

static int parse_endpoint(const char *text, struct sockaddr_in *sa) {
  char host[64];
  const char *colon = strchr(text, ':');
  if (!colon || (size_t)(colon - text) >= sizeof host) return -1;
  memcpy(host, text, (size_t)(colon - text));
  host[colon - text] = 0;
  memset(sa, 0, sizeof *sa);
  sa->sin_family = AF_INET;
  if (inet_pton(AF_INET, host, &sa->sin_addr) != 1) return -1;
  long port = strtol(colon + 1, NULL, 10);
  if (port < 1 || port > 65535) return -1;
  sa->sin_port = htons((uint16_t)port);
  return 0;
}

static void put_ip(uint8_t *p, uint32_t ip) {
  p[0] = ip >> 24;
  p[1] = ip >> 16;
  p[2] = ip >> 8;
  p[3] = ip;
}

static uint32_t get_ip(const uint8_t *p) {
  return ((uint32_t)p[0] << 24) | ((uint32_t)p[1] << 16) | ((uint32_t)p[2] << 8) | p[3];
}

/* The sender MAC of host `ip`: 02:00 then the four address bytes (as the workloads do). */
static void host_mac(uint8_t mac[6], uint32_t ip) {
  mac[0] = 0x02;
  mac[1] = 0x00;
  put_ip(mac + 2, ip);
}

static void put_vxlan(uint8_t *p, uint32_t vni) {
  memset(p, 0, VXLAN_LEN);
  p[0] = 0x08; /* RFC 7348 section 5: the I flag */
  p[4] = vni >> 16;
  p[5] = vni >> 8;
  p[6] = vni;
}

/* An ARP frame for Ethernet/IPv4 (RFC 826) after its Ethernet header. */
static void put_arp(uint8_t *p, const uint8_t eth_dst[6], const uint8_t eth_src[6], uint16_t op,
                    const uint8_t sha[6], uint32_t spa, const uint8_t tha[6], uint32_t tpa) {
  memcpy(p, eth_dst, 6);
  memcpy(p + 6, eth_src, 6);
  p[12] = 0x08;
  p[13] = 0x06;
  uint8_t *a = p + ETH_LEN;
  a[0] = 0;
  a[1] = 1; /* hrd: Ethernet */
  a[2] = 0x08;
  a[3] = 0x00; /* pro: IPv4 */
  a[4] = 6;
  a[5] = 4;
  a[6] = op >> 8;
  a[7] = op;
  memcpy(a + 8, sha, 6);
  put_ip(a + 14, spa);
  memcpy(a + 18, tha, 6);
  put_ip(a + 24, tpa);
}

static int vxlan_ok(const uint8_t *p, ssize_t len, uint32_t vni) {
  return len >= DGRAM_LEN && (p[0] & 0x08) && (uint32_t)((p[4] << 16) | (p[5] << 8) | p[6]) == vni;
}

static int open_socket(const struct sockaddr_in *local, int rcvbuf) {
  int fd = socket(AF_INET, SOCK_DGRAM | SOCK_NONBLOCK, 0);
  if (fd < 0) die("socket");
  if (rcvbuf > 0) {
    setsockopt(fd, SOL_SOCKET, SO_RCVBUF, &rcvbuf, sizeof rcvbuf);
    setsockopt(fd, SOL_SOCKET, SO_SNDBUF, &rcvbuf, sizeof rcvbuf);
  }
  if (bind(fd, (const struct sockaddr *)local, sizeof *local) < 0) die("bind");
  return fd;
}

/* --- client ------------------------------------------------------------------------------ */

struct client {
  int fd;
  uint32_t vni, target_ip, sender_base;
  uint8_t target_mac[6];
  int hosts, window, batch;
  uint64_t timeout_ns;
  /* Per host: the window slot its request occupies (-1: none) and when it was sent. */
  int *slot_of;
  uint64_t *sent_at;
  /* Per slot: the host whose request it holds (-1: free); the free slots as a stack. */
  int *host_in;
  int *free_slots;
  int inflight, next_host, free_count;
  /* Counters: all of a run, and those of the measured interval. */
  uint64_t sent, valid, invalid, other, late, lost, send_errors, send_short;
  uint64_t m_sent, m_valid, m_lost;
  uint32_t *hist;
  uint64_t hist_over;
};

/* The next host with no request in flight, round robin (the window never exceeds the hosts). */
static int pick_host(struct client *c) {
  for (int tries = 0; tries < c->hosts; tries++) {
    int h = c->next_host;
    c->next_host = (c->next_host + 1) % c->hosts;
    if (c->slot_of[h] < 0) return h;
  }
  return -1;
}

static void release(struct client *c, int host) {
  int s = c->slot_of[host];
  c->slot_of[host] = -1;
  c->host_in[s] = -1;
  c->free_slots[c->free_count++] = s;
  c->inflight--;
}

/* A received datagram: a correct reply to an outstanding request, or counted as why not. */
static void client_receive(struct client *c, const uint8_t *p, ssize_t len, uint64_t now,
                           int measuring) {
  if (!vxlan_ok(p, len, c->vni)) {
    c->other++;
    return;
  }
  const uint8_t *f = p + VXLAN_LEN;
  const uint8_t *a = f + ETH_LEN;
  if (f[12] != 0x08 || f[13] != 0x06) {
    c->other++;
    return;
  }
  uint16_t op = (uint16_t)((a[6] << 8) | a[7]);
  if (op != 2) {
    c->other++; /* the responder's own requests or announcements */
    return;
  }
  uint32_t tpa = get_ip(a + 24);
  uint32_t host = tpa - c->sender_base;
  uint8_t mac[6];
  if (host >= (uint32_t)c->hosts) {
    c->invalid++;
    return;
  }
  host_mac(mac, tpa);
  int ok = a[0] == 0 && a[1] == 1 && a[2] == 0x08 && a[3] == 0 && a[4] == 6 && a[5] == 4 &&
           memcmp(f, mac, 6) == 0 && memcmp(f + 6, c->target_mac, 6) == 0 &&
           memcmp(a + 8, c->target_mac, 6) == 0 && get_ip(a + 14) == c->target_ip &&
           memcmp(a + 18, mac, 6) == 0;
  if (!ok) {
    c->invalid++;
    return;
  }
  if (c->slot_of[host] < 0) {
    c->late++; /* answered after its timeout, or twice */
    return;
  }
  uint64_t rtt_us = (now - c->sent_at[host]) / 1000;
  release(c, (int)host);
  c->valid++;
  if (measuring) {
    c->m_valid++;
    if (rtt_us < HIST_BUCKETS) c->hist[rtt_us]++;
    else c->hist_over++;
  }
}

static double hist_quantile(const struct client *c, double q) {
  uint64_t total = c->hist_over;
  for (int i = 0; i < HIST_BUCKETS; i++) total += c->hist[i];
  if (total == 0) return -1;
  uint64_t rank = (uint64_t)(q * (double)(total - 1)) + 1, seen = 0;
  for (int i = 0; i < HIST_BUCKETS; i++) {
    seen += c->hist[i];
    if (seen >= rank) return i;
  }
  return HIST_BUCKETS;
}

static int run_client(int argc, char **argv) {
  struct client c;
  memset(&c, 0, sizeof c);
  struct sockaddr_in local, remote;
  int have_local = 0, have_remote = 0, have_target = 0, have_mac = 0, have_base = 0;
  long warmup_ms = -1, duration_ms = -1, timeout_ms = 200, rcvbuf = 4 << 20;
  c.vni = 42;
  c.hosts = 1024;
  c.window = 64;
  c.batch = 32;
  for (int i = 2; i < argc; i += 2) {
    if (i + 1 >= argc) usage("missing value");
    const char *k = argv[i], *v = argv[i + 1];
    if (!strcmp(k, "--local")) have_local = parse_endpoint(v, &local) == 0;
    else if (!strcmp(k, "--remote")) have_remote = parse_endpoint(v, &remote) == 0;
    else if (!strcmp(k, "--vni")) c.vni = (uint32_t)strtoul(v, NULL, 10);
    else if (!strcmp(k, "--target-ip")) have_target = parse_ip(v, &c.target_ip) == 0;
    else if (!strcmp(k, "--target-mac")) have_mac = parse_mac(v, c.target_mac) == 0;
    else if (!strcmp(k, "--sender-base")) have_base = parse_ip(v, &c.sender_base) == 0;
    else if (!strcmp(k, "--hosts")) c.hosts = atoi(v);
    else if (!strcmp(k, "--window")) c.window = atoi(v);
    else if (!strcmp(k, "--batch")) c.batch = atoi(v);
    else if (!strcmp(k, "--warmup-ms")) warmup_ms = atol(v);
    else if (!strcmp(k, "--duration-ms")) duration_ms = atol(v);
    else if (!strcmp(k, "--timeout-ms")) timeout_ms = atol(v);
    else if (!strcmp(k, "--rcvbuf")) rcvbuf = atol(v);
    else usage(k);
  }
  if (!have_local || !have_remote || !have_target || !have_mac || !have_base)
    usage("--local, --remote, --target-ip, --target-mac and --sender-base are required");
  if (c.hosts < 1 || c.hosts > MAX_HOSTS) usage("--hosts must be 1..65536");
  if (c.window < 1 || c.window > c.hosts) usage("--window must be 1..hosts");
  if (c.batch < 1 || c.batch > MAX_BATCH) usage("--batch must be 1..256");
  if (warmup_ms < 0 || duration_ms < 1 || duration_ms > 600000) usage("bad --warmup-ms/--duration-ms");
  if (timeout_ms < 1) usage("bad --timeout-ms");
  c.timeout_ns = (uint64_t)timeout_ms * 1000000u;

  c.slot_of = malloc(sizeof(int) * (size_t)c.hosts);
  c.sent_at = calloc((size_t)c.hosts, sizeof(uint64_t));
  c.host_in = malloc(sizeof(int) * (size_t)c.window);
  c.free_slots = malloc(sizeof(int) * (size_t)c.window);
  c.hist = calloc(HIST_BUCKETS, sizeof(uint32_t));
  if (!c.slot_of || !c.sent_at || !c.host_in || !c.free_slots || !c.hist) die("malloc");
  for (int h = 0; h < c.hosts; h++) c.slot_of[h] = -1;
  for (int s = 0; s < c.window; s++) {
    c.host_in[s] = -1;
    c.free_slots[s] = c.window - 1 - s;
  }
  c.free_count = c.window;

  /* Not connected: the kernel's vxlan device sends from a source port hashed per flow
     (RFC 7348 section 5), so replies come from many ports. */
  c.fd = open_socket(&local, (int)rcvbuf);

  static uint8_t tx[MAX_BATCH][DGRAM_LEN];
  static uint8_t rx[MAX_BATCH][RX_BUF];
  struct mmsghdr txm[MAX_BATCH], rxm[MAX_BATCH];
  struct iovec txv[MAX_BATCH], rxv[MAX_BATCH];
  int tx_host[MAX_BATCH];
  static const uint8_t broadcast[6] = {0xff, 0xff, 0xff, 0xff, 0xff, 0xff};
  static const uint8_t zero[6] = {0};
  memset(txm, 0, sizeof txm);
  memset(rxm, 0, sizeof rxm);
  for (int i = 0; i < MAX_BATCH; i++) {
    txv[i].iov_base = tx[i];
    txv[i].iov_len = DGRAM_LEN;
    txm[i].msg_hdr.msg_iov = &txv[i];
    txm[i].msg_hdr.msg_iovlen = 1;
    txm[i].msg_hdr.msg_name = &remote;
    txm[i].msg_hdr.msg_namelen = sizeof remote;
    rxv[i].iov_base = rx[i];
    rxv[i].iov_len = RX_BUF;
    rxm[i].msg_hdr.msg_iov = &rxv[i];
    rxm[i].msg_hdr.msg_iovlen = 1;
    put_vxlan(tx[i], c.vni);
  }

  struct rusage ru0, ru1;
  uint64_t start = now_ns();
  uint64_t measure_from = start + (uint64_t)warmup_ms * 1000000u;
  uint64_t end = measure_from + (uint64_t)duration_ms * 1000000u;
  uint64_t last_sweep = start, measured_start = 0;
  int measuring = 0;
  uint64_t now = start;
  while (now < end) {
    if (!measuring && now >= measure_from) {
      measuring = 1;
      measured_start = now;
      getrusage(RUSAGE_SELF, &ru0);
    }
    /* Fill the window. */
    int n = 0;
    while (c.inflight < c.window && n < c.batch) {
      int h = pick_host(&c);
      if (h < 0) break;
      int s = c.free_slots[--c.free_count];
      c.slot_of[h] = s;
      c.host_in[s] = h;
      c.sent_at[h] = now;
      uint32_t ip = c.sender_base + (uint32_t)h;
      uint8_t mac[6];
      host_mac(mac, ip);
      put_arp(tx[n] + VXLAN_LEN, broadcast, mac, 1, mac, ip, zero, c.target_ip);
      tx_host[n++] = h;
      c.inflight++;
    }
    if (n > 0) {
      int done = sendmmsg(c.fd, txm, (unsigned)n, 0);
      if (done < 0) {
        if (errno != EAGAIN && errno != ENOBUFS && errno != ECONNREFUSED) die("sendmmsg");
        c.send_errors++;
        done = 0;
      }
      if (done < n) c.send_short++;
      for (int i = done; i < n; i++) release(&c, tx_host[i]);
      c.sent += (uint64_t)done;
      if (measuring) c.m_sent += (uint64_t)done;
    }
    /* Take what arrived; wait (at most 1 ms) only when there is nothing to send. */
    int got = recvmmsg(c.fd, rxm, (unsigned)c.batch, MSG_DONTWAIT, NULL);
    if (got < 0 && errno != EAGAIN && errno != ECONNREFUSED) die("recvmmsg");
    if (got <= 0 && c.inflight >= c.window) {
      struct pollfd pfd = {.fd = c.fd, .events = POLLIN};
      poll(&pfd, 1, 1);
      got = recvmmsg(c.fd, rxm, (unsigned)c.batch, MSG_DONTWAIT, NULL);
      if (got < 0 && errno != EAGAIN && errno != ECONNREFUSED) die("recvmmsg");
    }
    now = now_ns();
    for (int i = 0; i < got; i++) client_receive(&c, rx[i], rxm[i].msg_len, now, measuring);
    /* Lost requests free their slots (a sweep of the window, every millisecond). */
    if (now - last_sweep >= 1000000u) {
      last_sweep = now;
      for (int s = 0; s < c.window; s++) {
        int h = c.host_in[s];
        if (h >= 0 && now - c.sent_at[h] > c.timeout_ns) {
          release(&c, h);
          c.lost++;
          if (measuring && c.sent_at[h] >= measured_start) c.m_lost++;
        }
      }
    }
  }
  getrusage(RUSAGE_SELF, &ru1);
  if (!measuring) measured_start = now;
  double seconds = (double)(now - measured_start) / 1e9;
  double user = cpu_seconds(&ru1.ru_utime) - cpu_seconds(&ru0.ru_utime);
  double sys = cpu_seconds(&ru1.ru_stime) - cpu_seconds(&ru0.ru_stime);
  printf("{\"mode\":\"client\",\"hosts\":%d,\"window\":%d,\"batch\":%d,\"seconds\":%.6f,"
         "\"sent\":%llu,\"valid\":%llu,\"repliesPerSecond\":%.1f,\"invalid\":%llu,\"other\":%llu,"
         "\"late\":%llu,\"lost\":%llu,\"lostMeasured\":%llu,\"sendErrors\":%llu,\"sendShort\":%llu,"
         "\"cpuUser\":%.6f,\"cpuSys\":%.6f,\"rttP50Us\":%.0f,\"rttP99Us\":%.0f,"
         "\"totalSent\":%llu,\"totalValid\":%llu}\n",
         c.hosts, c.window, c.batch, seconds, (unsigned long long)c.m_sent,
         (unsigned long long)c.m_valid, seconds > 0 ? c.m_valid / seconds : 0.0,
         (unsigned long long)c.invalid, (unsigned long long)c.other, (unsigned long long)c.late,
         (unsigned long long)c.lost, (unsigned long long)c.m_lost,
         (unsigned long long)c.send_errors, (unsigned long long)c.send_short, user, sys,
         hist_quantile(&c, 0.5), hist_quantile(&c, 0.99), (unsigned long long)c.sent,
         (unsigned long long)c.valid);
  return 0;
}

/* --- reflector --------------------------------------------------------------------------- */

static volatile sig_atomic_t stop_requested = 0;

static void on_stop(int sig) {
  (void)sig;
  stop_requested = 1;
}

static int run_reflect(int argc, char **argv) {
  struct sockaddr_in local;
  uint32_t vni = 42, ip = 0;
  uint8_t mac[6];
  int have_local = 0, have_ip = 0, have_mac = 0, batch = 64;
  long max_ms = -1;
  for (int i = 2; i < argc; i += 2) {
    if (i + 1 >= argc) usage("missing value");
    const char *k = argv[i], *v = argv[i + 1];
    if (!strcmp(k, "--local")) have_local = parse_endpoint(v, &local) == 0;
    else if (!strcmp(k, "--vni")) vni = (uint32_t)strtoul(v, NULL, 10);
    else if (!strcmp(k, "--ip")) have_ip = parse_ip(v, &ip) == 0;
    else if (!strcmp(k, "--mac")) have_mac = parse_mac(v, mac) == 0;
    else if (!strcmp(k, "--max-ms")) max_ms = atol(v);
    else if (!strcmp(k, "--batch")) batch = atoi(v);
    else usage(k);
  }
  if (!have_local || !have_ip || !have_mac) usage("--local, --ip and --mac are required");
  if (max_ms < 1 || max_ms > 600000) usage("--max-ms must be 1..600000");
  if (batch < 1 || batch > MAX_BATCH) usage("--batch must be 1..256");
  int fd = open_socket(&local, 4 << 20);

  static uint8_t buf[MAX_BATCH][RX_BUF];
  static struct sockaddr_in peers[MAX_BATCH];
  struct mmsghdr rxm[MAX_BATCH], txm[MAX_BATCH];
  struct iovec rxv[MAX_BATCH], txv[MAX_BATCH];
  memset(rxm, 0, sizeof rxm);
  memset(txm, 0, sizeof txm);
  for (int i = 0; i < MAX_BATCH; i++) {
    rxv[i].iov_base = buf[i];
    rxv[i].iov_len = RX_BUF;
    rxm[i].msg_hdr.msg_iov = &rxv[i];
    rxm[i].msg_hdr.msg_iovlen = 1;
    rxm[i].msg_hdr.msg_name = &peers[i];
    txv[i].iov_base = buf[i];
    txv[i].iov_len = DGRAM_LEN;
    txm[i].msg_hdr.msg_iov = &txv[i];
    txm[i].msg_hdr.msg_iovlen = 1;
  }
  uint64_t received = 0, answered = 0, ignored = 0;
  uint64_t end = now_ns() + (uint64_t)max_ms * 1000000u;
  signal(SIGTERM, on_stop);
  signal(SIGINT, on_stop);
  printf("{\"mode\":\"reflect\",\"ready\":true}\n");
  fflush(stdout);
  while (!stop_requested && now_ns() < end) {
    struct pollfd pfd = {.fd = fd, .events = POLLIN};
    if (poll(&pfd, 1, 10) <= 0) continue;
    for (int i = 0; i < batch; i++) rxm[i].msg_hdr.msg_namelen = sizeof peers[i];
    int got;
    if (batch == 1) {
      socklen_t len = sizeof peers[0];
      ssize_t r = recvfrom(fd, buf[0], RX_BUF, MSG_DONTWAIT, (struct sockaddr *)&peers[0], &len);
      got = r < 0 ? -1 : 1;
      if (r >= 0) rxm[0].msg_len = (unsigned)r;
    } else {
      got = recvmmsg(fd, rxm, (unsigned)batch, MSG_DONTWAIT, NULL);
    }
    if (got < 0) {
      if (errno == EAGAIN) continue;
      die("recv");
    }
    int n = 0;
    for (int i = 0; i < got; i++) {
      received++;
      uint8_t *p = buf[i];
      const uint8_t *a = p + VXLAN_LEN + ETH_LEN;
      if (!vxlan_ok(p, rxm[i].msg_len, vni) || p[VXLAN_LEN + 12] != 0x08 ||
          p[VXLAN_LEN + 13] != 0x06 || a[6] != 0 || a[7] != 1 || get_ip(a + 24) != ip) {
        ignored++;
        continue;
      }
      uint8_t sha[6];
      memcpy(sha, a + 8, 6);
      uint32_t spa = get_ip(a + 14);
      put_arp(p + VXLAN_LEN, sha, mac, 2, mac, ip, sha, spa);
      if (n != i) {
        memcpy(buf[n], p, DGRAM_LEN);
        peers[n] = peers[i];
      }
      txm[n].msg_hdr.msg_name = &peers[n];
      txm[n].msg_hdr.msg_namelen = sizeof peers[n];
      n++;
    }
    if (n == 0) continue;
    if (batch == 1) {
      if (sendto(fd, buf[0], DGRAM_LEN, 0, (struct sockaddr *)&peers[0], sizeof peers[0]) == DGRAM_LEN)
        answered++;
    } else {
      int done = sendmmsg(fd, txm, (unsigned)n, 0);
      if (done > 0) answered += (uint64_t)done;
    }
  }
  printf("{\"mode\":\"reflect\",\"received\":%llu,\"answered\":%llu,\"ignored\":%llu}\n",
         (unsigned long long)received, (unsigned long long)answered, (unsigned long long)ignored);
  return 0;
}

int main(int argc, char **argv) {
  if (argc < 2) usage("no mode");
  if (!strcmp(argv[1], "client")) return run_client(argc, argv);
  if (!strcmp(argv[1], "reflect")) return run_reflect(argc, argv);
  usage("mode must be client or reflect");
  return 2;
}
