from .bf16_optim_wrapper import BFloat16OptimWrapper

__all__ = ['BFloat16OptimWrapper']
