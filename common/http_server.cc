#include "common/http_server.h"

#include <arpa/inet.h>
#include <civetweb.h>
#include <dlfcn.h>
#include <link.h>
#include <netinet/in.h>
#include <sys/mman.h>
#include <sys/socket.h>
#include <unistd.h>
#include <zlib.h>

#include <algorithm>
#include <atomic>
#include <cerrno>
#include <chrono>
#include <cstdio>
#include <cstring>
#include <deque>
#include <exception>
#include <fstream>
#include <mutex>
#include <sstream>
#include <thread>

#include "absl/base/thread_annotations.h"
#include "absl/strings/ascii.h"
#include "absl/strings/match.h"
#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "absl/strings/str_split.h"
#include "absl/synchronization/mutex.h"
#include "absl/synchronization/notification.h"
#include "common/json.h"
#include "common/logging.h"
#include "common/status_macros.h"
#include "prometheus/counter.h"
#include "prometheus/family.h"
#include "prometheus/histogram.h"

namespace sextant {

absl::string_view HttpRequest::PathParam(absl::string_view name) const {
  auto it = path_params.find(name);
  return it == path_params.end() ? absl::string_view() : absl::string_view(it->second);
}

HttpResponse HttpResponse::Text(int status, std::string body, absl::string_view content_type) {
  HttpResponse r;
  r.status = status;
  r.headers.Add("Content-Type", content_type);
  r.body = std::move(body);
  return r;
}

HttpResponse HttpResponse::Json(int status, std::string body) {
  return Text(status, std::move(body), "application/json");
}

HttpResponse HttpResponse::JsonError(int status, absl::string_view error_type,
                                     absl::string_view message) {
  JsonWriter w;
  w.StartObject();
  w.Key("status");
  w.String("error");
  w.Key("errorType");
  w.String(error_type);
  w.Key("error");
  w.String(message);
  w.EndObject();
  return Json(status, w.TakeString());
}

namespace {

// ---------------------------------------------------------------------------------------------
// Routing.

struct Segment {
  enum Kind { kLiteral = 2, kParam = 1, kRest = 0 };  // the value is the specificity
  Kind kind;
  std::string text;  // the literal, or the parameter name
};

struct Route {
  std::string method;
  std::string pattern;
  std::vector<Segment> segments;
  HttpHandler handler;
};

// "/a/<b>/<c...>" -> {"a", <b>, <c...>}. The path "/" has one empty segment.
std::vector<absl::string_view> SplitPath(absl::string_view path) {
  if (absl::StartsWith(path, "/")) path.remove_prefix(1);
  return absl::StrSplit(path, '/');
}

std::vector<Segment> ParsePattern(absl::string_view pattern) {
  std::vector<Segment> segments;
  for (absl::string_view s : SplitPath(pattern)) {
    if (absl::StartsWith(s, "<") && absl::EndsWith(s, "...>") && s.size() > 5) {
      segments.push_back({Segment::kRest, std::string(s.substr(1, s.size() - 5))});
    } else if (absl::StartsWith(s, "<") && absl::EndsWith(s, ">") && s.size() > 2) {
      segments.push_back({Segment::kParam, std::string(s.substr(1, s.size() - 2))});
    } else {
      segments.push_back({Segment::kLiteral, std::string(s)});
    }
  }
  return segments;
}

// Matches decoded path segments against a route; fills `params` on success.
bool MatchRoute(const Route& route, const std::vector<std::string>& path,
                std::map<std::string, std::string, std::less<>>* params) {
  params->clear();
  const std::vector<Segment>& pattern = route.segments;
  for (size_t i = 0; i < pattern.size(); ++i) {
    const Segment& seg = pattern[i];
    if (seg.kind == Segment::kRest) {
      if (i >= path.size()) return false;
      std::vector<absl::string_view> rest(path.begin() + static_cast<ptrdiff_t>(i), path.end());
      (*params)[seg.text] = absl::StrJoin(rest, "/");
      return true;
    }
    if (i >= path.size()) return false;
    if (seg.kind == Segment::kLiteral) {
      if (seg.text != path[i]) return false;
    } else {
      (*params)[seg.text] = path[i];
    }
  }
  return pattern.size() == path.size();
}

// True when `a` is more specific than `b`: segment by segment, literal beats parameter beats rest.
bool MoreSpecific(const Route& a, const Route& b) {
  const size_t n = std::min(a.segments.size(), b.segments.size());
  for (size_t i = 0; i < n; ++i) {
    if (a.segments[i].kind != b.segments[i].kind) return a.segments[i].kind > b.segments[i].kind;
  }
  return a.segments.size() > b.segments.size();
}

bool MethodMatches(absl::string_view route_method, absl::string_view method) {
  return route_method == "*" || route_method == method ||
         (method == "HEAD" && route_method == "GET");
}

// ---------------------------------------------------------------------------------------------
// Response helpers.

// "content-type" -> "Content-Type".
std::string CanonicalHeaderName(absl::string_view name) {
  std::string out(name);
  bool upper = true;
  for (char& c : out) {
    c = upper ? absl::ascii_toupper(static_cast<unsigned char>(c))
              : absl::ascii_tolower(static_cast<unsigned char>(c));
    upper = c == '-';
  }
  return out;
}

// Whether an Accept-Encoding value admits gzip (by name or "*", with a non-zero q).
bool AcceptsGzip(absl::string_view accept_encoding) {
  for (absl::string_view item : absl::StrSplit(accept_encoding, ',')) {
    std::vector<absl::string_view> parts = absl::StrSplit(item, ';');
    absl::string_view coding = absl::StripAsciiWhitespace(parts[0]);
    if (!absl::EqualsIgnoreCase(coding, "gzip") && !absl::EqualsIgnoreCase(coding, "x-gzip") &&
        coding != "*") {
      continue;
    }
    double q = 1;
    for (size_t i = 1; i < parts.size(); ++i) {
      absl::string_view p = absl::StripAsciiWhitespace(parts[i]);
      if (absl::StartsWithIgnoreCase(p, "q=") && !absl::SimpleAtod(p.substr(2), &q)) q = 0;
    }
    if (q > 0) return true;
  }
  return false;
}

// Gzip-compresses `in`. Returns false when zlib fails (the caller then sends `in` as is).
bool Gzip(absl::string_view in, std::string* out) {
  z_stream zs;
  std::memset(&zs, 0, sizeof(zs));
  // 15 window bits + 16 selects the gzip wrapper.
  if (deflateInit2(&zs, Z_DEFAULT_COMPRESSION, Z_DEFLATED, 15 + 16, 8, Z_DEFAULT_STRATEGY) !=
      Z_OK) {
    return false;
  }
  out->resize(deflateBound(&zs, static_cast<uLong>(in.size())));
  zs.next_in = reinterpret_cast<Bytef*>(const_cast<char*>(in.data()));
  zs.avail_in = static_cast<uInt>(in.size());
  zs.next_out = reinterpret_cast<Bytef*>(out->data());
  zs.avail_out = static_cast<uInt>(out->size());
  const int rc = deflate(&zs, Z_FINISH);
  deflateEnd(&zs);
  if (rc != Z_STREAM_END) return false;
  out->resize(zs.total_out);
  return true;
}

std::string HttpDate() {
  return absl::FormatTime("%a, %d %b %Y %H:%M:%S GMT", absl::Now(), absl::UTCTimeZone());
}

// Parses "HOST:PORT" into civetweb's form. The host may be empty (all IPv4 addresses), an IPv4
// address or a name; "[v6]:port" is accepted only when civetweb was built with IPv6.
struct ListenAddress {
  std::string host;  // as given, without brackets
  int port = 0;
  bool ipv6 = false;
};

absl::StatusOr<ListenAddress> ParseListen(absl::string_view listen) {
  const size_t colon = listen.rfind(':');
  if (colon == absl::string_view::npos) {
    return absl::InvalidArgumentError(
        absl::StrCat("listen address ", JsonQuote(listen), ": want HOST:PORT"));
  }
  ListenAddress addr;
  absl::string_view host = listen.substr(0, colon);
  if (!absl::SimpleAtoi(listen.substr(colon + 1), &addr.port) || addr.port < 0 ||
      addr.port > 65535) {
    return absl::InvalidArgumentError(
        absl::StrCat("listen address ", JsonQuote(listen), ": bad port"));
  }
  if (absl::StartsWith(host, "[") && absl::EndsWith(host, "]")) {
    host = host.substr(1, host.size() - 2);
    addr.ipv6 = true;
  } else if (absl::StrContains(host, ':')) {
    addr.ipv6 = true;
  }
  if (addr.ipv6 && mg_check_feature(MG_FEATURES_IPV6) == 0) {
    return absl::InvalidArgumentError(absl::StrCat(
        "listen address ", JsonQuote(listen),
        ": IPv6 is not supported (the system's civetweb library is built for IPv4 only)"));
  }
  addr.host = std::string(host);
  return addr;
}

// civetweb reports why mg_start2 failed (say, a port in use) through its log callback, on the
// thread that called it; Start() collects those lines here for its error message.
thread_local std::vector<std::string>* t_start_errors = nullptr;

// Debian's civetweb 1.15 is built against the OpenSSL 1.1 API and loads libssl with dlopen and
// dlsym. OpenSSL 3 no longer exports SSL_get_peer_certificate (renamed SSL_get1_peer_certificate,
// same behaviour), so civetweb's TLS set-up fails as a whole. This dlsym, installed in
// civetweb's own import slot only, answers that one name with the new symbol.
void* CivetwebDlsym(void* handle, const char* name) {
  void* sym = dlsym(handle, name);
  if (sym == nullptr && name != nullptr && std::strcmp(name, "SSL_get_peer_certificate") == 0) {
    sym = dlsym(handle, "SSL_get1_peer_certificate");
  }
  return sym;
}

// The address range of the PT_GNU_RELRO segment of the object loaded at `base`; {0, 0} if none.
std::pair<uintptr_t, uintptr_t> RelroRange(ElfW(Addr) base) {
  struct Search {
    ElfW(Addr) base;
    std::pair<uintptr_t, uintptr_t> range{0, 0};
  } search{base};
  dl_iterate_phdr(
      [](dl_phdr_info* info, size_t, void* data) {
        auto* s = static_cast<Search*>(data);
        if (info->dlpi_addr != s->base) return 0;
        for (int i = 0; i < info->dlpi_phnum; ++i) {
          const ElfW(Phdr)& ph = info->dlpi_phdr[i];
          if (ph.p_type == PT_GNU_RELRO) {
            s->range = {info->dlpi_addr + ph.p_vaddr, info->dlpi_addr + ph.p_vaddr + ph.p_memsz};
          }
        }
        return 1;
      },
      &search);
  return search.range;
}

// Points libcivetweb's relocation slots for dlsym at CivetwebDlsym. Returns false when they
// cannot be found (another civetweb build), which leaves civetweb as it was.
bool RedirectCivetwebDlsym() {
  Dl_info info;
  link_map* map = nullptr;
  if (dladdr1(reinterpret_cast<void*>(&mg_start2), &info, reinterpret_cast<void**>(&map),
              RTLD_DL_LINKMAP) == 0 ||
      map == nullptr) {
    return false;
  }
  const ElfW(Addr) base = map->l_addr;
  // glibc relocates these pointers in place on most targets; accept both forms.
  auto at = [base](ElfW(Addr) p) { return p < base ? p + base : p; };
  const ElfW(Sym)* symtab = nullptr;
  const char* strtab = nullptr;
  ElfW(Addr) jmprel = 0, rela = 0;
  size_t jmprel_size = 0, rela_size = 0;
  bool plt_is_rela = true;
  for (const ElfW(Dyn)* d = map->l_ld; d->d_tag != DT_NULL; ++d) {
    switch (d->d_tag) {
      case DT_SYMTAB:
        symtab = reinterpret_cast<const ElfW(Sym)*>(at(d->d_un.d_ptr));
        break;
      case DT_STRTAB:
        strtab = reinterpret_cast<const char*>(at(d->d_un.d_ptr));
        break;
      case DT_JMPREL:
        jmprel = at(d->d_un.d_ptr);
        break;
      case DT_PLTRELSZ:
        jmprel_size = d->d_un.d_val;
        break;
      case DT_PLTREL:
        plt_is_rela = d->d_un.d_val == DT_RELA;
        break;
      case DT_RELA:
        rela = at(d->d_un.d_ptr);
        break;
      case DT_RELASZ:
        rela_size = d->d_un.d_val;
        break;
      default:
        break;
    }
  }
  if (symtab == nullptr || strtab == nullptr || !plt_is_rela) return false;
  const long page = sysconf(_SC_PAGESIZE);
  const std::pair<uintptr_t, uintptr_t> relro = RelroRange(base);
  bool patched = false;
  for (auto [table, size] : {std::pair{jmprel, jmprel_size}, std::pair{rela, rela_size}}) {
    const auto* relocs = reinterpret_cast<const ElfW(Rela)*>(table);
    for (size_t i = 0; table != 0 && i < size / sizeof(ElfW(Rela)); ++i) {
#if __SIZEOF_POINTER__ == 8
      const size_t sym_index = ELF64_R_SYM(relocs[i].r_info);
#else
      const size_t sym_index = ELF32_R_SYM(relocs[i].r_info);
#endif
      if (sym_index == 0 || std::strcmp(strtab + symtab[sym_index].st_name, "dlsym") != 0) {
        continue;
      }
      auto* slot = reinterpret_cast<void**>(base + relocs[i].r_offset);
      const auto addr = reinterpret_cast<uintptr_t>(slot);
      const bool read_only = addr >= relro.first && addr < relro.second;
      auto* slot_page = reinterpret_cast<void*>(addr & ~static_cast<uintptr_t>(page - 1));
      // A slot in the read-only-after-relocation segment is opened for this one write.
      if (read_only &&
          mprotect(slot_page, static_cast<size_t>(page), PROT_READ | PROT_WRITE) != 0) {
        return false;
      }
      *slot = reinterpret_cast<void*>(&CivetwebDlsym);
      if (read_only) mprotect(slot_page, static_cast<size_t>(page), PROT_READ);
      patched = true;
    }
  }
  return patched;
}

// Initializes civetweb once per process, without TLS: plain HTTP servers leave OpenSSL and
// civetweb's imports alone.
void InitCivetwebOnce() {
  static std::once_flag once;
  std::call_once(once, [] { mg_init_library(0); });
}

// Sets up civetweb's TLS support once per process (patching its dlsym import first, see
// CivetwebDlsym); returns whether it loaded. Only servers with TLS call this.
bool InitCivetwebTlsOnce() {
  InitCivetwebOnce();
  static std::once_flag once;
  static bool tls_ready = false;
  std::call_once(once, [] {
    const bool redirected = RedirectCivetwebDlsym();
    tls_ready = (mg_init_library(MG_FEATURES_TLS) & MG_FEATURES_TLS) != 0;
    if (!tls_ready) {
      LogWarn("http server: TLS is unavailable (civetweb could not load libssl)",
              {{"dlsym_redirected", redirected}});
    }
  });
  return tls_ready;
}

// Reads a whole file; InvalidArgument naming the path when it cannot.
absl::StatusOr<std::string> ReadWholeFile(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  if (!in) {
    return absl::InvalidArgumentError(
        absl::StrCat("cannot read ", path, ": ", std::strerror(errno)));
  }
  std::stringstream ss;
  ss << in.rdbuf();
  return ss.str();
}

class CivetHttpServer;

// The stream writer handed to streaming handlers: each Write is one HTTP chunk. Owned by the
// server thread serving the response; not thread-safe.
class ChunkWriter final : public HttpStreamWriter {
 public:
  ChunkWriter(mg_connection* conn, absl::Notification& stopping)
      : conn_(conn), stopping_(stopping) {}

  bool Write(absl::string_view data) override {
    if (broken_ || Stopping()) return false;
    if (data.empty()) return true;  // an empty chunk would end the body
    std::string chunk = absl::StrCat(absl::Hex(data.size()), "\r\n", data, "\r\n");
    if (mg_write(conn_, chunk.data(), chunk.size()) != static_cast<int>(chunk.size())) {
      broken_ = true;
      return false;
    }
    return true;
  }

  bool Stopping() const override { return stopping_.HasBeenNotified(); }
  bool WaitForStop(absl::Duration timeout) override {
    return stopping_.WaitForNotificationWithTimeout(timeout);
  }

  // Ends the body. False when the connection is gone.
  bool Finish() {
    if (broken_) return false;
    static constexpr absl::string_view kLast = "0\r\n\r\n";
    return mg_write(conn_, kLast.data(), kLast.size()) == static_cast<int>(kLast.size());
  }

 private:
  mg_connection* const conn_;
  absl::Notification& stopping_;
  bool broken_ = false;
};

// ---------------------------------------------------------------------------------------------
// The server.

// HttpServer on civetweb. civetweb's workers accept connections and parse request heads, then
// hand each request to one of this server's own threads, which reads the body, runs the handler
// and writes the answer: civetweb's threads have a 100 KiB stack in Debian's build, too small
// for deep handlers. Stop() first drains the requests in flight (civetweb drops every write once
// mg_stop has begun), then stops civetweb. Owned by the caller of Create(); thread-safe.
class CivetHttpServer final : public HttpServer {
 public:
  CivetHttpServer(HttpServerOptions options, ListenAddress listen)
      : options_(std::move(options)), listen_(std::move(listen)) {}
  ~CivetHttpServer() override { Stop(); }

  absl::Status InitMetrics();

  void Handle(absl::string_view method, absl::string_view pattern, HttpHandler handler) override;
  absl::Status Start() override;
  void Stop() override;
  int port() const override { return port_.load(std::memory_order_acquire); }
  std::string address() const override {
    return absl::StrCat(listen_.ipv6 ? "[" : "", listen_.host.empty() ? "0.0.0.0" : listen_.host,
                        listen_.ipv6 ? "]" : "", ":", port());
  }

 private:
  // A request handed from a civetweb thread to a server thread, which sets `status`.
  struct Task {
    mg_connection* conn;
    int status = 0;
    absl::Notification done;
  };

  // civetweb's callbacks; they run on civetweb's threads (C frames) and never throw.
  static int BeginRequest(mg_connection* conn);
  static int LogMessage(const mg_connection* conn, const char* message);
  int Dispatch(mg_connection* conn);
  void WorkerLoop();
  // Opens and closes a connection to the listener (to wake civetweb's accept loop).
  void PokeListener() const;
  // Serves one request on a server thread; returns the status sent (0 when nothing was sent).
  int Serve(mg_connection* conn);
  int ServeRequest(mg_connection* conn, const mg_request_info* info, std::string* handler_label);
  // Writes a complete response (or, for a stream, headers, chunks and the end).
  int WriteResponse(mg_connection* conn, const mg_request_info* info, const HttpRequest& request,
                    HttpResponse& response, bool close);
  void Record(const std::string& handler, const std::string& method, int status,
              std::chrono::steady_clock::duration elapsed);
  absl::StatusOr<std::string> TlsCertificatePath(int* memfd);

  const HttpServerOptions options_;
  const ListenAddress listen_;
  std::atomic<int> port_{0};
  // Notified (under queue_mu_) when Stop() begins; streams and Dispatch check it.
  absl::Notification stopping_;
  // Set while mg_stop runs: the connections that wake civetweb's accept loop make it complain.
  std::atomic<bool> civetweb_stopping_{false};

  absl::Mutex state_mu_;  // serializes Handle, Start and Stop
  enum class State { kNew, kRunning, kStopped };
  // Appended to only under state_mu_ while state_ is kNew (Handle checks both under the lock),
  // read without the lock by the server threads, which Start() creates after the last append:
  // read-only once serving.
  std::vector<Route> routes_;
  State state_ ABSL_GUARDED_BY(state_mu_) = State::kNew;
  mg_context* ctx_ ABSL_GUARDED_BY(state_mu_) = nullptr;
  std::vector<std::thread> workers_ ABSL_GUARDED_BY(state_mu_);

  absl::Mutex queue_mu_;
  std::deque<Task*> queue_ ABSL_GUARDED_BY(queue_mu_);
  bool workers_stop_ ABSL_GUARDED_BY(queue_mu_) = false;
  int in_flight_ ABSL_GUARDED_BY(queue_mu_) = 0;

  prometheus::Family<prometheus::Counter>* requests_total_ = nullptr;
  prometheus::Family<prometheus::Histogram>* request_seconds_ = nullptr;
};

absl::Status CivetHttpServer::InitMetrics() {
  if (options_.metrics == nullptr) return absl::OkStatus();
  try {
    requests_total_ = &prometheus::BuildCounter()
                           .Name("sextant_http_requests_total")
                           .Help("HTTP requests served, by route, method and status code.")
                           .Register(*options_.metrics);
    request_seconds_ = &prometheus::BuildHistogram()
                            .Name("sextant_http_request_duration_seconds")
                            .Help("Time to serve HTTP requests, by route.")
                            .Register(*options_.metrics);
  } catch (const std::exception& e) {
    return absl::InvalidArgumentError(absl::StrCat("register HTTP server metrics: ", e.what()));
  }
  return absl::OkStatus();
}

void CivetHttpServer::Handle(absl::string_view method, absl::string_view pattern,
                             HttpHandler handler) {
  absl::MutexLock lock(&state_mu_);
  if (state_ != State::kNew) {
    LogError("http server: route added after Start() is ignored",
             {{"method", method}, {"pattern", pattern}});
    return;
  }
  routes_.push_back(
      {std::string(method), std::string(pattern), ParsePattern(pattern), std::move(handler)});
}

absl::StatusOr<std::string> CivetHttpServer::TlsCertificatePath(int* memfd) {
  *memfd = -1;
  const std::string& key_file =
      options_.tls_key_file.empty() ? options_.tls_cert_file : options_.tls_key_file;
  absl::StatusOr<std::string> cert = ReadWholeFile(options_.tls_cert_file);
  if (!cert.ok()) return Annotate(cert.status(), "TLS certificate: ");
  if (key_file == options_.tls_cert_file) return options_.tls_cert_file;
  absl::StatusOr<std::string> key = ReadWholeFile(key_file);
  if (!key.ok()) return Annotate(key.status(), "TLS key: ");
  // civetweb wants the key and the certificate in one PEM file; give it one that lives only in
  // memory, so the key is never copied to disk.
  const int fd = memfd_create("sextant-tls", MFD_CLOEXEC);
  if (fd < 0) {
    return absl::InternalError(absl::StrCat("memfd_create: ", std::strerror(errno)));
  }
  const std::string pem = absl::StrCat(*key, "\n", *cert);
  size_t written = 0;
  while (written < pem.size()) {
    const ssize_t n = write(fd, pem.data() + written, pem.size() - written);
    if (n <= 0) {
      close(fd);
      return absl::InternalError(absl::StrCat("write TLS key to memfd: ", std::strerror(errno)));
    }
    written += static_cast<size_t>(n);
  }
  *memfd = fd;
  return absl::StrCat("/proc/self/fd/", fd);
}

absl::Status CivetHttpServer::Start() {
  absl::MutexLock lock(&state_mu_);
  if (state_ != State::kNew) {
    return absl::FailedPreconditionError("HTTP server already started (a server starts once)");
  }
  const bool tls = !options_.tls_cert_file.empty();
  if (tls) {
    if (!InitCivetwebTlsOnce()) {
      return absl::FailedPreconditionError(
          "HTTP server TLS is unavailable: civetweb could not load libssl");
    }
  } else {
    InitCivetwebOnce();
  }
  std::string ports = listen_.ipv6           ? absl::StrCat("[", listen_.host, "]:", listen_.port)
                      : listen_.host.empty() ? absl::StrCat(listen_.port)
                                             : absl::StrCat(listen_.host, ":", listen_.port);
  if (tls) ports += "s";
  const std::string threads = absl::StrCat(std::max(1, options_.threads));
  const std::string timeout_ms =
      absl::StrCat(std::max<int64_t>(1, absl::ToInt64Milliseconds(options_.request_timeout)));
  const std::string max_request_size = absl::StrCat(options_.max_header_bytes);

  int memfd = -1;
  std::string cert_path;
  if (tls) {
    absl::StatusOr<std::string> path = TlsCertificatePath(&memfd);
    if (!path.ok()) return path.status();
    cert_path = *std::move(path);
  }

  std::vector<const char*> config = {
      "listening_ports",    ports.c_str(),
      "num_threads",        threads.c_str(),
      "request_timeout_ms", timeout_ms.c_str(),
      "enable_keep_alive",  "yes",
      "decode_url",         "no",
      "tcp_nodelay",        "1",
      "max_request_size",   max_request_size.c_str(),
  };
  if (tls) {
    config.insert(config.end(), {"ssl_certificate", cert_path.c_str()});
    if (!options_.tls_client_ca_file.empty()) {
      config.insert(config.end(),
                    {"ssl_verify_peer", "yes", "ssl_ca_file", options_.tls_client_ca_file.c_str(),
                     "ssl_default_verify_paths", "no"});
    }
  }
  config.push_back(nullptr);

  mg_callbacks callbacks;
  std::memset(&callbacks, 0, sizeof(callbacks));
  callbacks.begin_request = &CivetHttpServer::BeginRequest;
  callbacks.log_message = &CivetHttpServer::LogMessage;
  mg_init_data init;
  std::memset(&init, 0, sizeof(init));
  init.callbacks = &callbacks;
  init.user_data = this;
  init.configuration_options = config.data();
  char error_text[256] = {0};
  mg_error_data error;
  std::memset(&error, 0, sizeof(error));
  error.text = error_text;
  error.text_buffer_size = sizeof(error_text);

  // The server threads must run before civetweb hands them requests.
  {
    absl::MutexLock qlock(&queue_mu_);
    workers_stop_ = false;
  }
  for (int i = 0; i < std::max(1, options_.threads); ++i) {
    workers_.emplace_back([this] { WorkerLoop(); });
  }

  std::vector<std::string> start_errors;
  t_start_errors = &start_errors;
  mg_context* ctx = mg_start2(&init, &error);
  t_start_errors = nullptr;
  if (memfd >= 0) close(memfd);  // civetweb has read it

  if (ctx == nullptr) {
    {
      absl::MutexLock qlock(&queue_mu_);
      workers_stop_ = true;
    }
    for (std::thread& t : workers_) t.join();
    workers_.clear();
    std::string detail;
    for (const std::string& e : start_errors) {
      if (e != error_text) absl::StrAppend(&detail, detail.empty() ? "" : "; ", e);
    }
    absl::StrAppend(&detail, detail.empty() ? "" : "; ", error_text);
    return absl::UnavailableError(
        absl::StrCat("HTTP server cannot listen on ", options_.listen, ": ", detail));
  }

  mg_server_port server_ports[4];
  const int n = mg_get_server_ports(ctx, 4, server_ports);
  port_.store(n > 0 ? server_ports[0].port : listen_.port, std::memory_order_release);
  ctx_ = ctx;
  state_ = State::kRunning;
  LogDebug("http server listening", {{"addr", address()}, {"tls", tls}});
  return absl::OkStatus();
}

void CivetHttpServer::Stop() {
  absl::MutexLock lock(&state_mu_);
  if (state_ != State::kRunning) {
    state_ = State::kStopped;
    return;
  }
  state_ = State::kStopped;
  {
    // No new request is dispatched once stopping_ is set (under queue_mu_); wait for the others.
    absl::MutexLock qlock(&queue_mu_);
    stopping_.Notify();
    queue_mu_.Await(absl::Condition(
        +[](int* in_flight) { return *in_flight == 0; }, &in_flight_));
  }
  // civetweb's accept loop checks for a stop only between polls of up to 2 s; connecting to the
  // listener wakes it at once.
  absl::Notification civetweb_stopped;
  std::thread waker([this, &civetweb_stopped] {
    while (!civetweb_stopped.WaitForNotificationWithTimeout(absl::Milliseconds(5))) {
      PokeListener();
    }
  });
  civetweb_stopping_.store(true, std::memory_order_release);
  mg_stop(ctx_);
  civetweb_stopping_.store(false, std::memory_order_release);
  civetweb_stopped.Notify();
  waker.join();
  ctx_ = nullptr;
  {
    absl::MutexLock qlock(&queue_mu_);
    workers_stop_ = true;
  }
  for (std::thread& t : workers_) t.join();
  workers_.clear();
  LogDebug("http server stopped", {{"addr", address()}});
}

void CivetHttpServer::PokeListener() const {
  const int fd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
  if (fd < 0) return;
  sockaddr_in addr;
  std::memset(&addr, 0, sizeof(addr));
  addr.sin_family = AF_INET;
  addr.sin_port = htons(static_cast<uint16_t>(port()));
  if (listen_.host.empty() || inet_pton(AF_INET, listen_.host.c_str(), &addr.sin_addr) != 1 ||
      addr.sin_addr.s_addr == htonl(INADDR_ANY)) {
    addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  }
  connect(fd, reinterpret_cast<sockaddr*>(&addr), sizeof(addr));
  close(fd);
}

int CivetHttpServer::BeginRequest(mg_connection* conn) {
  const mg_request_info* info = mg_get_request_info(conn);
  return static_cast<CivetHttpServer*>(info->user_data)->Dispatch(conn);
}

int CivetHttpServer::LogMessage(const mg_connection* conn, const char* message) {
  try {
    if (t_start_errors != nullptr) {
      t_start_errors->push_back(message);
      return 1;
    }
    // Context-level messages come with a stand-in connection that still names the context.
    const mg_context* ctx = mg_get_context(conn);
    const auto* server =
        ctx != nullptr ? static_cast<const CivetHttpServer*>(mg_get_user_data(ctx)) : nullptr;
    if (server == nullptr || !server->civetweb_stopping_.load(std::memory_order_acquire)) {
      LogWarn("http server: civetweb error",
              {{"addr", server != nullptr ? server->address() : "unknown"}, {"err", message}});
    }
  } catch (...) {
    // Out of memory: the message is lost, but nothing unwinds through civetweb.
  }
  return 1;  // handled: civetweb writes nothing itself
}

// Runs on a civetweb thread: keep it small (100 KiB stack), and let nothing throw into civetweb.
int CivetHttpServer::Dispatch(mg_connection* conn) {
  static constexpr absl::string_view kStoppingBody =
      R"({"status":"error","errorType":"unavailable","error":"server is shutting down"})";
  static constexpr absl::string_view kNoMemoryBody =
      R"({"status":"error","errorType":"internal","error":"out of memory"})";
  // Writes a fixed error answer and closes the connection; no allocation.
  auto refuse = [conn](int status, absl::string_view reason, absl::string_view body) {
    char head[256];
    const int n =
        std::snprintf(head, sizeof(head),
                      "HTTP/1.1 %d %.*s\r\nConnection: close\r\n"
                      "Content-Type: application/json\r\nContent-Length: %zu\r\n\r\n",
                      status, static_cast<int>(reason.size()), reason.data(), body.size());
    mg_disable_connection_keep_alive(conn);
    if (n > 0 && static_cast<size_t>(n) < sizeof(head)) mg_write(conn, head, n);
    mg_write(conn, body.data(), body.size());
    return status;
  };
  Task task;
  task.conn = conn;
  enum { kQueued, kStopping, kNoMemory } outcome = kQueued;
  {
    absl::MutexLock lock(&queue_mu_);
    if (stopping_.HasBeenNotified()) {
      outcome = kStopping;
    } else {
      try {
        queue_.push_back(&task);
        ++in_flight_;
      } catch (...) {  // std::bad_alloc
        outcome = kNoMemory;
      }
    }
  }
  if (outcome == kStopping) return refuse(503, "Service Unavailable", kStoppingBody);
  if (outcome == kNoMemory) return refuse(500, "Internal Server Error", kNoMemoryBody);
  task.done.WaitForNotification();
  {
    absl::MutexLock lock(&queue_mu_);
    --in_flight_;
  }
  // civetweb treats 0 as "not handled" and would answer again; 1-999 is the logged status.
  return task.status > 0 ? task.status : 500;
}

void CivetHttpServer::WorkerLoop() {
  while (true) {
    Task* task;
    {
      absl::MutexLock lock(&queue_mu_);
      queue_mu_.Await(absl::Condition(
          +[](CivetHttpServer* s)
               ABSL_NO_THREAD_SAFETY_ANALYSIS { return s->workers_stop_ || !s->queue_.empty(); },
          this));
      if (queue_.empty()) return;  // stopping
      task = queue_.front();
      queue_.pop_front();
    }
    task->status = Serve(task->conn);
    task->done.Notify();
  }
}

void CivetHttpServer::Record(const std::string& handler, const std::string& method, int status,
                             std::chrono::steady_clock::duration elapsed) {
  if (requests_total_ == nullptr) return;
  static constexpr absl::string_view kMethods[] = {"GET",    "HEAD",    "POST", "PUT",
                                                   "DELETE", "OPTIONS", "PATCH"};
  const bool known =
      std::find(std::begin(kMethods), std::end(kMethods), method) != std::end(kMethods);
  try {
    requests_total_
        ->Add({{"handler", handler},
               {"method", known ? method : "other"},
               {"code", absl::StrCat(status)}})
        .Increment();
    request_seconds_
        ->Add({{"handler", handler}},
              prometheus::Histogram::BucketBoundaries{.005, .01, .025, .05, .1, .25, .5, 1, 2.5, 5,
                                                      10, 30, 60})
        .Observe(std::chrono::duration<double>(elapsed).count());
  } catch (const std::exception& e) {
    LogWarn("http server: metrics update failed", {{"err", e.what()}});
  }
}

int CivetHttpServer::Serve(mg_connection* conn) {
  const auto start = std::chrono::steady_clock::now();
  const mg_request_info* info = mg_get_request_info(conn);
  std::string handler_label = "other";
  int status;
  try {
    status = ServeRequest(conn, info, &handler_label);
  } catch (const std::exception& e) {
    // Only reached if writing the answer itself threw (e.g. out of memory).
    LogError("http server: request failed", {{"path", info->local_uri}, {"err", e.what()}});
    mg_disable_connection_keep_alive(conn);
    status = 500;
  } catch (...) {
    LogError("http server: request failed", {{"path", info->local_uri}});
    mg_disable_connection_keep_alive(conn);
    status = 500;
  }
  Record(handler_label, info->request_method, status, std::chrono::steady_clock::now() - start);
  return status;
}

int CivetHttpServer::ServeRequest(mg_connection* conn, const mg_request_info* info,
                                  std::string* handler_label) {
  HttpRequest request;
  request.method = info->request_method;
  request.raw_query = info->query_string != nullptr ? info->query_string : "";
  request.remote_addr = absl::StrCat(info->remote_addr, ":", info->remote_port);
  for (int i = 0; i < info->num_headers; ++i) {
    request.headers.Add(info->http_headers[i].name, info->http_headers[i].value);
  }
  auto answer = [&](HttpResponse response, bool close = false) {
    return WriteResponse(conn, info, request, response, close);
  };

  // The path, split on '/' before decoding so that an escaped '/' stays inside its segment.
  const char* raw_uri = info->local_uri_raw != nullptr ? info->local_uri_raw : info->local_uri;
  absl::string_view raw_path = raw_uri != nullptr ? raw_uri : "/";
  std::vector<std::string> segments;
  for (absl::string_view raw : SplitPath(raw_path)) {
    absl::StatusOr<std::string> seg = UrlDecode(raw, /*plus_is_space=*/false);
    if (!seg.ok()) return answer(HttpResponse::JsonError(400, "bad_data", seg.status().message()));
    segments.push_back(*std::move(seg));
  }
  request.path = absl::StrCat("/", absl::StrJoin(segments, "/"));

  // Route: the most specific match for this method; else 405 when another method matches.
  const Route* route = nullptr;
  std::vector<std::string> allowed;
  std::map<std::string, std::string, std::less<>> params;
  for (const Route& r : routes_) {
    if (!MatchRoute(r, segments, &params)) continue;
    if (!MethodMatches(r.method, request.method)) {
      allowed.push_back(r.method);
      if (r.method == "GET") allowed.push_back("HEAD");
      continue;
    }
    if (route == nullptr || MoreSpecific(r, *route)) {
      route = &r;
      request.path_params = params;
    }
  }
  if (route == nullptr) {
    if (allowed.empty()) {
      return answer(HttpResponse::JsonError(
          404, "not_found", absl::StrCat("no route for ", request.method, " ", request.path)));
    }
    std::sort(allowed.begin(), allowed.end());
    allowed.erase(std::unique(allowed.begin(), allowed.end()), allowed.end());
    HttpResponse r = HttpResponse::JsonError(
        405, "bad_data",
        absl::StrCat("method ", request.method, " not allowed for ", request.path));
    r.headers.Add("Allow", absl::StrJoin(allowed, ", "));
    return answer(std::move(r));
  }
  *handler_label = route->pattern;

  // The body, bounded: by the declared length before reading anything, else while reading.
  const int64_t max_body = options_.max_body_bytes;
  const std::string too_large =
      absl::StrCat("request body larger than the limit of ", max_body, " bytes");
  if (info->content_length > max_body) {
    return answer(HttpResponse::JsonError(413, "bad_data", too_large), /*close=*/true);
  }
  if (info->content_length > 0) request.body.reserve(static_cast<size_t>(info->content_length));
  // civetweb leaves "Expect: 100-continue" unanswered, and clients then wait (curl: 1 s).
  if (absl::EqualsIgnoreCase(request.headers.Get("expect"), "100-continue") &&
      info->http_version != nullptr && absl::string_view(info->http_version) == "1.1" &&
      info->content_length != 0) {
    static constexpr absl::string_view kContinue = "HTTP/1.1 100 Continue\r\n\r\n";
    mg_write(conn, kContinue.data(), kContinue.size());
  }
  constexpr size_t kReadSize = 64 << 10;
  std::string buffer(kReadSize, '\0');
  while (true) {
    const int n = mg_read(conn, buffer.data(), buffer.size());
    if (n < 0) {
      LogDebug("http server: reading request body failed", {{"path", request.path}});
      mg_disable_connection_keep_alive(conn);
      return 400;  // the client is gone or stalled: nothing useful can be sent
    }
    if (n == 0) break;
    if (static_cast<int64_t>(request.body.size()) + n > max_body) {
      return answer(HttpResponse::JsonError(413, "bad_data", too_large), /*close=*/true);
    }
    request.body.append(buffer.data(), static_cast<size_t>(n));
  }

  // Parameters: the form body first, then the query string, as Go's Request.ParseForm does.
  if (request.method == "POST" || request.method == "PUT" || request.method == "PATCH") {
    absl::string_view type = request.headers.Get("content-type");
    type = absl::StripAsciiWhitespace(type.substr(0, type.find(';')));
    if (absl::EqualsIgnoreCase(type, "application/x-www-form-urlencoded")) {
      absl::StatusOr<HttpParams> form = ParseUrlEncoded(request.body);
      if (!form.ok()) {
        return answer(HttpResponse::JsonError(
            400, "bad_data", absl::StrCat("invalid form body: ", form.status().message())));
      }
      request.params = *std::move(form);
    }
  }
  absl::StatusOr<HttpParams> query = ParseUrlEncoded(request.raw_query);
  if (!query.ok()) {
    return answer(HttpResponse::JsonError(
        400, "bad_data", absl::StrCat("invalid query string: ", query.status().message())));
  }
  for (const auto& [name, value] : query->all()) request.params.Add(name, value);

  HttpResponse response;
  try {
    response = route->handler(request);
  } catch (const std::exception& e) {
    LogError("http server: handler threw",
             {{"route", route->pattern}, {"path", request.path}, {"err", e.what()}});
    response = HttpResponse::JsonError(500, "internal", "internal server error");
  } catch (...) {
    LogError("http server: handler threw", {{"route", route->pattern}, {"path", request.path}});
    response = HttpResponse::JsonError(500, "internal", "internal server error");
  }
  return answer(std::move(response));
}

int CivetHttpServer::WriteResponse(mg_connection* conn, const mg_request_info* info,
                                   const HttpRequest& request, HttpResponse& response, bool close) {
  const int status = response.status >= 100 && response.status <= 999 ? response.status : 500;
  const bool head = request.method == "HEAD";
  const bool no_body = head || status == 204 || status == 304 || status < 200;
  const bool http11 =
      info->http_version != nullptr && absl::string_view(info->http_version) == "1.1";

  // Keep-alive as civetweb decides it (it closes after a 401 and after a Connection header
  // without keep-alive); HTTP/1.0 streams end by closing.
  absl::string_view conn_header = request.headers.Get("connection");
  if (status == 401 ||
      (request.headers.Has("connection") &&
       !absl::StrContains(absl::AsciiStrToLower(conn_header), "keep-alive")) ||
      (!request.headers.Has("connection") && !http11) || (response.stream && !http11) ||
      stopping_.HasBeenNotified()) {
    close = true;  // also while stopping: the connection would not outlive the server
  }
  if (close) mg_disable_connection_keep_alive(conn);

  std::string head_block = absl::StrCat(
      "HTTP/1.1 ", status, " ", mg_get_response_code_text(conn, status), "\r\n",
      "Date: ", HttpDate(), "\r\n", "Connection: ", close ? "close" : "keep-alive", "\r\n");

  // Compress large bodies for clients that take gzip. The choice depends on Accept-Encoding
  // whenever a body is large enough, so caches are told (Vary) whatever the client sent. HEAD
  // decides as GET would, so that its Content-Encoding and Content-Length match GET's.
  const bool streaming = static_cast<bool>(response.stream);
  const bool has_body_status = status >= 200 && status != 204 && status != 304;
  if (!streaming && has_body_status && options_.gzip_min_bytes > 0 &&
      static_cast<int64_t>(response.body.size()) >= options_.gzip_min_bytes &&
      !response.headers.Has("content-encoding")) {
    if (!absl::StrContains(absl::AsciiStrToLower(response.headers.Get("vary")),
                           "accept-encoding")) {
      response.headers.Add("Vary", "Accept-Encoding");
    }
    std::string compressed;
    if (AcceptsGzip(request.headers.Get("accept-encoding")) && Gzip(response.body, &compressed)) {
      response.body = std::move(compressed);
      response.headers.Add("Content-Encoding", "gzip");
    }
  }

  for (const auto& [name, value] : response.headers.all()) {
    if (name == "content-length" || name == "transfer-encoding" || name == "connection" ||
        name == "date") {
      continue;  // framing is ours
    }
    absl::StrAppend(&head_block, CanonicalHeaderName(name), ": ", value, "\r\n");
  }
  if (streaming) {
    if (http11) absl::StrAppend(&head_block, "Transfer-Encoding: chunked\r\n");
  } else if (has_body_status) {
    absl::StrAppend(&head_block, "Content-Length: ", response.body.size(), "\r\n");
  }
  absl::StrAppend(&head_block, "\r\n");

  if (!streaming) {
    if (!no_body) head_block += response.body;
    mg_write(conn, head_block.data(), head_block.size());
    return status;
  }

  if (mg_write(conn, head_block.data(), head_block.size()) != static_cast<int>(head_block.size()) ||
      no_body) {
    return status;
  }
  if (!http11) {
    // HTTP/1.0 has no chunks: the body is the bytes until the connection closes.
    class RawWriter final : public HttpStreamWriter {
     public:
      RawWriter(mg_connection* c, absl::Notification& s) : conn_(c), stopping_(s) {}
      bool Write(absl::string_view data) override {
        if (Stopping()) return false;
        return data.empty() ||
               mg_write(conn_, data.data(), data.size()) == static_cast<int>(data.size());
      }
      bool Stopping() const override { return stopping_.HasBeenNotified(); }
      bool WaitForStop(absl::Duration timeout) override {
        return stopping_.WaitForNotificationWithTimeout(timeout);
      }

     private:
      mg_connection* conn_;
      absl::Notification& stopping_;
    } writer(conn, stopping_);
    try {
      response.stream(writer);
    } catch (const std::exception& e) {
      LogError("http server: stream handler threw", {{"path", request.path}, {"err", e.what()}});
    } catch (...) {
      LogError("http server: stream handler threw", {{"path", request.path}});
    }
    return status;
  }
  ChunkWriter writer(conn, stopping_);
  try {
    response.stream(writer);
  } catch (const std::exception& e) {
    // The status is already sent: end the connection without the last chunk, so the client
    // sees a truncated body rather than a complete one.
    LogError("http server: stream handler threw", {{"path", request.path}, {"err", e.what()}});
    mg_disable_connection_keep_alive(conn);
    return status;
  } catch (...) {
    LogError("http server: stream handler threw", {{"path", request.path}});
    mg_disable_connection_keep_alive(conn);
    return status;
  }
  if (!writer.Finish() || writer.Stopping()) mg_disable_connection_keep_alive(conn);
  return status;
}

}  // namespace

absl::StatusOr<std::unique_ptr<HttpServer>> HttpServer::Create(const HttpServerOptions& options) {
  absl::StatusOr<ListenAddress> listen = ParseListen(options.listen);
  if (!listen.ok()) return listen.status();
  if (options.threads < 1) {
    return absl::InvalidArgumentError(
        absl::StrCat("HTTP server threads must be at least 1, got ", options.threads));
  }
  if (options.max_body_bytes < 0) {
    return absl::InvalidArgumentError("HTTP server max_body_bytes must not be negative");
  }
  if (options.max_header_bytes < 1024) {
    return absl::InvalidArgumentError(absl::StrCat(
        "HTTP server max_header_bytes must be at least 1024, got ", options.max_header_bytes));
  }
  if (options.tls_cert_file.empty() &&
      (!options.tls_key_file.empty() || !options.tls_client_ca_file.empty())) {
    return absl::InvalidArgumentError(
        "HTTP server TLS key or client CA given without a certificate (tls_cert_file)");
  }
  auto server = std::make_unique<CivetHttpServer>(options, *std::move(listen));
  absl::Status metrics = server->InitMetrics();
  if (!metrics.ok()) return metrics;
  return server;
}

}  // namespace sextant
