// strategy_main.cc: main for each //clients:<strategy> binary. The BUILD file
// compiles this file once per strategy with ASYNCWORK_STRATEGY defined as
// the StrategyKind enumerator (kBlocking, kThreaded, ...).
#include "clients/client_main.h"
#include "clients/strategy.h"

int main(int argc, char** argv) {
  return asyncwork::clients::ClientMain(
      asyncwork::clients::StrategyKind::ASYNCWORK_STRATEGY, argc, argv);
}
