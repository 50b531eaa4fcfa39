// fake_apiserver: the fake Kubernetes API server as a standalone process, for shell tests and
// kubectl. Seeds namespace "default", deployment "web" (1 replica) with its pod, a node and a
// ScalingPolicy "web", prints its URL on stdout, and serves until SIGTERM or SIGINT.
//
//   fake_apiserver --listen=127.0.0.1:0 --tls --cert=server.pem --key=server-key.pem
//       --ca=ca.pem --token=secret --kubeconfig=/tmp/kubeconfig
#include <signal.h>

#include <cstdio>
#include <fstream>
#include <iostream>
#include <string>

#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/string_view.h"
#include "tests/fakes/fake_apiserver.h"

namespace {

constexpr absl::string_view kUsage =
    "usage: fake_apiserver [--listen=HOST:PORT] [--tls --cert=PEM --key=PEM] [--ca=PEM]\n"
    "                      [--token=TOKEN] [--kubeconfig=PATH] [--no-seed]\n";

constexpr const char* kSeed[] = {
    R"({"apiVersion":"v1","kind":"Namespace","metadata":{"name":"default"}})",
    R"({"apiVersion":"v1","kind":"Namespace","metadata":{"name":"kube-system"}})",
    R"({"apiVersion":"v1","kind":"Node","metadata":{"name":"node-1",)"
    R"("labels":{"kubernetes.io/hostname":"node-1"}},"status":{"conditions":)"
    R"([{"type":"Ready","status":"True"}]}})",
    R"({"apiVersion":"apps/v1","kind":"Deployment","metadata":{"name":"web","namespace":"default",)"
    R"("labels":{"app":"web"}},"spec":{"replicas":1,"selector":{"matchLabels":{"app":"web"}},)"
    R"("template":{"metadata":{"labels":{"app":"web"}},"spec":{"containers":)"
    R"([{"name":"web","image":"nginx:1.25"}]}}},"status":{"replicas":1,"readyReplicas":1}})",
    R"({"apiVersion":"v1","kind":"Pod","metadata":{"name":"web-5d9c7b8f6-abcde",)"
    R"("namespace":"default","labels":{"app":"web"}},"spec":{"nodeName":"node-1",)"
    R"("containers":[{"name":"web","image":"nginx:1.25"}]},"status":{"phase":"Running"}})",
    R"({"apiVersion":"autoscaling.sextant.dev/v1alpha1","kind":"ScalingPolicy",)"
    R"("metadata":{"name":"web","namespace":"default"},"spec":{"scaleTargetRef":)"
    R"({"apiVersion":"apps/v1","kind":"Deployment","name":"web"},"minReplicas":1,)"
    R"("maxReplicas":10,"metrics":[{"type":"Pods","name":"gpu_utilization","pods":)"
    R"({"query":"avg by (pod) (DCGM_FI_DEV_GPU_UTIL{namespace=\"default\"}) / 100",)"
    R"("target":{"type":"AverageValue","averageValue":"700m"}}}]}})",
};

bool Flag(absl::string_view arg, absl::string_view name, std::string* value) {
  std::string prefix = absl::StrCat("--", name, "=");
  if (!absl::StartsWith(arg, prefix)) return false;
  *value = std::string(arg.substr(prefix.size()));
  return true;
}

}  // namespace

int main(int argc, char** argv) {
  sextant::fakes::FakeApiServerOptions options;
  std::string token, kubeconfig, ca;
  bool seed = true;
  for (int i = 1; i < argc; ++i) {
    absl::string_view arg = argv[i];
    if (arg == "--tls") {
      options.tls = true;
    } else if (arg == "--no-seed") {
      seed = false;
    } else if (arg == "--allow-anonymous") {
      options.allow_anonymous = true;
    } else if (Flag(arg, "listen", &options.listen) || Flag(arg, "cert", &options.tls_cert_file) ||
               Flag(arg, "key", &options.tls_key_file) || Flag(arg, "ca", &ca) ||
               Flag(arg, "token", &token) || Flag(arg, "kubeconfig", &kubeconfig)) {
    } else {
      std::cerr << "unknown argument " << arg << "\n" << kUsage;
      return 2;
    }
  }
  if (token.empty()) options.allow_anonymous = true;

  // Block the signals before any thread starts so that only sigwait() below sees them.
  sigset_t signals;
  sigemptyset(&signals);
  sigaddset(&signals, SIGTERM);
  sigaddset(&signals, SIGINT);
  pthread_sigmask(SIG_BLOCK, &signals, nullptr);

  auto server = sextant::fakes::FakeApiServer::Create(options);
  if (!server.ok()) {
    std::cerr << "fake_apiserver: " << server.status() << "\n";
    return 1;
  }
  if (!token.empty()) (*server)->AddToken(token, "admin");
  if (seed) {
    for (const char* object : kSeed) {
      auto stored = (*server)->PutObject(object);
      if (!stored.ok()) {
        std::cerr << "fake_apiserver: seed: " << stored.status() << "\n";
        return 1;
      }
    }
    (*server)->SetPodLogs("default", "web-5d9c7b8f6-abcde", "web", "started\nserving\n",
                          "crashed\n");
  }
  if (absl::Status s = (*server)->Start(); !s.ok()) {
    std::cerr << "fake_apiserver: " << s << "\n";
    return 1;
  }
  if (!kubeconfig.empty()) {
    std::ofstream out(kubeconfig);
    out << "apiVersion: v1\nkind: Config\nclusters:\n- name: fake\n  cluster:\n    server: "
        << (*server)->url() << "\n";
    if (!ca.empty()) out << "    certificate-authority: " << ca << "\n";
    out << "users:\n- name: fake\n  user:\n";
    if (!token.empty()) {
      out << "    token: " << token << "\n";
    } else {
      out << "    {}\n";
    }
    out << "contexts:\n- name: fake\n  context:\n    cluster: fake\n    user: fake\n"
           "    namespace: default\ncurrent-context: fake\n";
    out.close();
    if (!out) {
      std::cerr << "fake_apiserver: cannot write " << kubeconfig << "\n";
      return 1;
    }
  }
  std::cout << (*server)->url() << std::endl;

  int sig = 0;
  sigwait(&signals, &sig);
  (*server)->Stop();
  return 0;
}
