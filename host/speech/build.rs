//! Links the offline speech engines from Debian's packages (scripts/setup installs
//! libpocketsphinx-dev, libsphinxbase-dev, libespeak-ng-dev and flite1-dev).

fn main() {
    for lib in [
        "pocketsphinx",
        "sphinxbase",
        "espeak-ng",
        "flite_cmu_us_slt",
        "flite_cmu_us_kal",
        "flite_usenglish",
        "flite_cmulex",
        "flite",
    ] {
        println!("cargo:rustc-link-lib={lib}");
    }
    println!("cargo:rerun-if-changed=build.rs");
}
