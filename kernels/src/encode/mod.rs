//! Input encoders: LFSR rate coding (hardware-exact), Bernoulli rate, Poisson, latency, direct.
//!
//! (Being written: see the owning branch.)
