// The look's palette (shaders/looks/<name>.toml): one vec3 per key, linear 0..1.
uniform vec3 pal_ground;
uniform vec3 pal_ground_alt;
uniform vec3 pal_hyphae;
uniform vec3 pal_hyphae_hot;
uniform vec3 pal_toxin;
uniform vec3 pal_flora;
uniform vec3 pal_node;
uniform vec3 pal_pulse;
uniform vec3 pal_cold;
uniform vec3 pal_shield;
uniform vec3 pal_mural_a;
uniform vec3 pal_mural_b;
uniform vec3 pal_mural_c;
uniform vec3 pal_mural_d;
