// client_main.h: ClientMain, the whole of every client binary's main: flags,
// the run, the summary, the exit status. Each //clients:<strategy> binary is
// one line that calls it with its StrategyKind (strategy_main.cc).
//
//   int main(int argc, char** argv) {
//     return asyncwork::clients::ClientMain(StrategyKind::kCallback, argc,
//                                           argv);
//   }
//
// Exit status: 0 when every request completed; 1 when any request failed or
// the run could not start (the server unreachable: one line on stderr says
// which address and why); 2 for a bad flag or argument (one line on stderr
// naming the flag and the value). --help and the other usage flags exit 0.
#ifndef ASYNCWORK_CLIENTS_CLIENT_MAIN_H_
#define ASYNCWORK_CLIENTS_CLIENT_MAIN_H_

#include "clients/strategy.h"

namespace asyncwork::clients {

// ClientMain parses the common client flags from argv, runs `kind` against
// --server, prints the summary (or --json) on stdout and returns the exit
// status above. Call it once, from main.
int ClientMain(StrategyKind kind, int argc, char** argv);

}  // namespace asyncwork::clients

#endif  // ASYNCWORK_CLIENTS_CLIENT_MAIN_H_
