// The process-start floor of layerplan-process-bench: a program that does nothing. Built as a
// static executable (no dynamic loader at all) and as an ordinary dynamic one.
int main() { return 0; }
