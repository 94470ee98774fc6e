from .refineloc_loss import RefineLocLoss

__all__ = ['RefineLocLoss']
