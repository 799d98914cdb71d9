/* A check that a store look-up runs before it goes to the database (the
 * per-address limit on look-ups of unknown keys, say). */
#ifndef LICD_STORE_GATE_H
#define LICD_STORE_GATE_H

typedef struct {
    int (*run)(void *arg); /* LICD_OK to go on, or the error the look-up returns */
    void *arg;
} store_gate;

#endif
