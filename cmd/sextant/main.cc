#include "cmd/sextant/commands.h"

int main(int argc, char** argv) { return sextant::cmd::Main(argc, argv); }
