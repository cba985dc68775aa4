/*
 * A Kafka-protocol broker for tests: librdkafka's own mock cluster (the one its test suite uses), on
 * loopback. Usage: kafka-mock BROKERS TOPIC:PARTITIONS...
 * Prints the bootstrap address on one line, then runs until stdin closes or SIGTERM/SIGINT arrives; with
 * KAFKA_MOCK_UNTIL_SIGNAL=1 (npm run kafka:dev) it never reads stdin, so it runs in a terminal's background too.
 */
#include <librdkafka/rdkafka.h>
#include <librdkafka/rdkafka_mock.h>
#include <errno.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

static volatile sig_atomic_t stopping = 0;

static void on_signal(int sig) {
    (void)sig;
    stopping = 1;
}

int main(int argc, char **argv) {
    char errstr[512];
    int brokers = argc > 1 ? atoi(argv[1]) : 1;
    if (brokers < 1) brokers = 1;

    rd_kafka_conf_t *conf = rd_kafka_conf_new();
    /* This handle only hosts the cluster: its notice that it has no bootstrap.servers of its own is noise. */
    rd_kafka_conf_set(conf, "log_level", "4", errstr, sizeof errstr);
    rd_kafka_t *rk = rd_kafka_new(RD_KAFKA_PRODUCER, conf, errstr, sizeof errstr);
    if (!rk) {
        fprintf(stderr, "kafka-mock: %s\n", errstr);
        return 1;
    }
    rd_kafka_mock_cluster_t *cluster = rd_kafka_mock_cluster_new(rk, brokers);
    if (!cluster) {
        fprintf(stderr, "kafka-mock: could not start the mock cluster\n");
        return 1;
    }
    for (int i = 2; i < argc; i++) {
        char *spec = argv[i];
        char *colon = strrchr(spec, ':');
        int partitions = colon ? atoi(colon + 1) : 1;
        if (colon) *colon = '\0';
        if (rd_kafka_mock_topic_create(cluster, spec, partitions > 0 ? partitions : 1, 1) != RD_KAFKA_RESP_ERR_NO_ERROR) {
            fprintf(stderr, "kafka-mock: could not create topic %s\n", spec);
            return 1;
        }
    }
    printf("%s\n", rd_kafka_mock_cluster_bootstraps(cluster));
    fflush(stdout);

    struct sigaction sa;
    memset(&sa, 0, sizeof sa);
    sa.sa_handler = on_signal;
    sigaction(SIGTERM, &sa, NULL);
    sigaction(SIGINT, &sa, NULL);
    const char *until_signal = getenv("KAFKA_MOCK_UNTIL_SIGNAL");
    if (until_signal && strcmp(until_signal, "1") == 0) {
        while (!stopping) pause();
    }
    /* The parent holds our stdin: when it goes away, so do we. */
    while (!stopping) {
        char c;
        ssize_t n = read(STDIN_FILENO, &c, 1);
        if (n == 0 || (n < 0 && errno != EINTR)) break;
    }
    rd_kafka_mock_cluster_destroy(cluster);
    rd_kafka_destroy(rk);
    return 0;
}
