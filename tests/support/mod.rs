pub mod streamslive_fake;
