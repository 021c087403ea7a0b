extension Duration {
    /// The duration in seconds, as a floating-point number (`1.5` for 1,500 ms): what settings,
    /// Foundation's time intervals and Prometheus take.
    public var inSeconds: Double {
        Double(components.seconds) + Double(components.attoseconds) / 1e18
    }
}
