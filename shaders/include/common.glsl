// Shared helpers: hashing, value noise, colour. Included by most programs.
#ifndef MYCO_COMMON
#define MYCO_COMMON
#define PI 3.14159265

float hash12(vec2 p) {
    vec3 p3 = fract(vec3(p.xyx) * 0.1031);
    p3 += dot(p3, p3.yzx + 33.33);
    return fract((p3.x + p3.y) * p3.z);
}

vec2 hash22(vec2 p) {
    vec3 p3 = fract(vec3(p.xyx) * vec3(0.1031, 0.1030, 0.0973));
    p3 += dot(p3, p3.yzx + 33.33);
    return fract((p3.xx + p3.yz) * p3.zy);
}

float noise(vec2 p) {
    vec2 i = floor(p);
    vec2 f = fract(p);
    vec2 u = f * f * (3.0 - 2.0 * f);
    return mix(mix(hash12(i), hash12(i + vec2(1.0, 0.0)), u.x),
               mix(hash12(i + vec2(0.0, 1.0)), hash12(i + vec2(1.0, 1.0)), u.x), u.y);
}

float fbm(vec2 p) {
    float sum = 0.0;
    float amp = 0.5;
    for (int i = 0; i < 4; i++) {
        sum += amp * noise(p);
        p = p * 2.03 + vec2(17.1, 9.7);
        amp *= 0.5;
    }
    return sum;
}

// 1 at x <= near, 0 at x >= far. (smoothstep with edge0 >= edge1 is undefined in GLSL.)
float falloff(float near, float far, float x) {
    return 1.0 - smoothstep(near, max(far, near + 1e-5), x);
}

// Round dots scattered one per cell (buds, spores): 1 at a dot's centre, 0 between dots.
float dots(vec2 p, float radius) {
    vec2 cell = floor(p);
    float nearest = 1.0;
    for (int j = -1; j <= 1; j++) {
        for (int i = -1; i <= 1; i++) {
            vec2 c = cell + vec2(float(i), float(j));
            nearest = min(nearest, length(p - c - hash22(c)));
        }
    }
    return falloff(0.0, radius, nearest);
}

float luma(vec3 c) {
    return dot(c, vec3(0.2126, 0.7152, 0.0722));
}

// Canvas distance between two points in 0..1 coordinates, in units of the canvas height.
float canvas_dist(vec2 a, vec2 b) {
    return length((a - b) * vec2(u_aspect, 1.0));
}

// Distance to the nearest hexagon edge (0 at an edge, 0.5 at a centre), for cells of size s.
float hex_edge(vec2 p, float s) {
    p /= s;
    vec2 r = vec2(1.0, 1.7320508);
    vec2 h = r * 0.5;
    vec2 a = mod(p, r) - h;
    vec2 b = mod(p - h, r) - h;
    vec2 g = dot(a, a) < dot(b, b) ? a : b;
    vec2 q = abs(g);
    return 0.5 - max(dot(q, normalize(vec2(1.0, 1.7320508))), q.x);
}
#endif
